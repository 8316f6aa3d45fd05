"""Contractors against the sandbox: both onboarding paths, requirements blocking sales,
balances pending then available, debits, payouts, and the paced balance sweep."""

from collections import Counter

import pytest
import stripe
from django.core import mail
from django.urls import reverse

from accounts.models import User, UserProfile
from notifications.models import Notification
from payments import gateway
from payments.models import ContractorDebit, Payout
from payments.services import connect
from payments.services.debits import debit_create
from shop import selectors
from tests.accounts.conftest import link_in
from tests.accounts.onboarding_data import everything
from tests.factories import ContractorFactory, ProductFactory, StaffFactory
from tests.integration.conftest import wait_for
from tests.integration.flows import captured_order, connected_balance, onboarded_contractor

pytestmark = [pytest.mark.sandbox, pytest.mark.celery_worker]


def profile(user):
    return UserProfile.objects.get(user=user)


def test_hosted_onboarding_return_page_reads_the_account(live_stack, client):
    seller = onboarded_contractor(live_stack, "hosted@example.com")
    client.force_login(seller)
    page = client.get(reverse("accounts:onboarding_return"), follow=True)
    assert "You&#x27;re all set" in page.content.decode()
    assert profile(seller).payouts_enabled


def test_custom_onboarding_uploads_documents_to_the_account(live_stack, client, settings):
    settings.CONNECT_ONBOARDING = "custom"
    client.post(
        reverse("accounts:signup"),
        {
            "email": "custom@example.com",
            "role": "contractor",
            "password1": "a-long-and-unusual-passphrase",
            "password2": "a-long-and-unusual-passphrase",
        },
    )
    seller = User.objects.get(email="custom@example.com")
    # The emailed one-time link signs the new contractor in.
    sent = wait_for(
        lambda: [m for m in mail.outbox if m.to == [seller.email]], what="the sign-up email"
    )
    client.post(link_in(sent[0]))
    wait_for(lambda: profile(seller).stripe_id, what="the connected account (signup task)")
    # Everything Stripe asks of a US individual (the form shows exactly those fields).
    response = client.post(reverse("accounts:onboarding"), everything(), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302

    account = gateway.account_retrieve(account=profile(seller).stripe_id)
    assert account["type"] == "custom"
    assert account["tos_acceptance"]["ip"] == "203.0.113.9"
    verification = account["individual"]["verification"]
    front = verification["document"]["front"]
    additional = verification["additional_document"]["front"]
    assert front.startswith("file_")
    assert additional.startswith("file_")
    # The documents are the connected account's files (Stripe-Account), not the platform's.
    uploaded = live_stack.client().v1.files.retrieve(
        front, options={"stripe_account": profile(seller).stripe_id}
    )
    assert (uploaded.purpose, uploaded.filename) == ("identity_document", "id.png")
    with pytest.raises(stripe.InvalidRequestError, match="No such file"):
        live_stack.client().v1.files.retrieve(front)  # not among the platform's files
    wait_for(lambda: profile(seller).charges_enabled, what="charges enabled")
    assert profile(seller).tos_ip == "203.0.113.9"


def test_while_stripe_checks_the_details_the_contractor_is_told_then_hears(
    live_stack, client, settings
):
    """Stripe verifies an SSN or a document in the background: after the form nothing
    is due, yet charges are not enabled. The contractor is told Stripe is checking,
    not "you can now sell", and hears once it is done."""
    settings.CONNECT_ONBOARDING = "custom"
    seller = ContractorFactory(email="checking@example.com")
    client.force_login(seller)
    client.get(reverse("accounts:onboarding"))  # makes the connected account
    account = profile(seller).stripe_id
    live_stack.control(
        "POST",
        f"/_sandbox/accounts/{account}/requirements",
        {"pending_verification": ["individual.verification.document"]},
    )
    response = client.post(
        reverse("accounts:onboarding"), everything(), REMOTE_ADDR="203.0.113.9", follow=True
    )
    page = response.content.decode()
    assert "Stripe is checking your details" in page
    assert "you can now sell" not in page.lower()
    assert not profile(seller).charges_enabled
    assert not Notification.objects.filter(recipient=seller, kind="charges_enabled").exists()

    live_stack.control("POST", f"/_sandbox/accounts/{account}/requirements", {"clear": True})
    wait_for(lambda: profile(seller).charges_enabled, what="account.updated (verified)")
    told = wait_for(
        lambda: Notification.objects.filter(recipient=seller, kind="charges_enabled").first(),
        what="the contractor told",
    )
    assert told.subject == "You can now sell"


def test_requirements_due_block_selling_until_cleared(live_stack):
    seller = onboarded_contractor(live_stack, "blocked@example.com")
    product = ProductFactory(seller=seller)
    account = profile(seller).stripe_id
    assert product in selectors.product_list()

    live_stack.control(
        "POST",
        f"/_sandbox/accounts/{account}/requirements",
        {"currently_due": ["individual.verification.document"], "disabled_reason": "past_due"},
    )
    wait_for(lambda: not profile(seller).charges_enabled, what="account.updated (restricted)")
    assert profile(seller).requirements["currently_due"] == ["individual.verification.document"]
    assert product not in selectors.product_list()

    live_stack.control("POST", f"/_sandbox/accounts/{account}/requirements", {"clear": True})
    wait_for(lambda: profile(seller).charges_enabled, what="account.updated (enabled)")
    assert product in selectors.product_list()


def test_balance_pending_then_available_a_debit_and_a_payout(live_stack, client, settings):
    settings.PLATFORM_FEE_BPS = 1000
    settings.PLATFORM_FEE_FIXED = 30
    seller = onboarded_contractor(live_stack, "paid@example.com")
    account = profile(seller).stripe_id
    captured_order(live_stack, seller, 10_000)  # 8,970 for the contractor

    assert connected_balance(account)[0] == 8970  # pending right after the capture
    client.force_login(seller)
    client.post(reverse("accounts:balance_refresh"))
    assert "$89.70" in client.get(reverse("accounts:dashboard")).content.decode()
    wait_for(lambda: connected_balance(account) == (0, 8970), what="funds available")

    debit_create(
        contractor_id=seller.pk,
        amount=1500,
        currency="usd",
        reason="No-show",
        created_by_id=StaffFactory().pk,
    )
    wait_for(lambda: ContractorDebit.objects.get().status == "succeeded", what="the debit")
    assert connected_balance(account) == (0, 8970 - 1500)

    live_stack.control("POST", "/_sandbox/payouts/run", {"account": account})
    wait_for(lambda: Payout.objects.filter(status="paid").exists(), what="payout.paid webhook")
    payout = Payout.objects.get()
    assert (payout.contractor, payout.amount, payout.currency) == (seller, 7470, "usd")
    wait_for(lambda: connected_balance(account) == (0, 0), what="the payout to empty the balance")
    dashboard = client.get(reverse("accounts:dashboard")).content.decode()
    assert payout.stripe_id in dashboard
    assert "$74.70" in dashboard
    assert "No-show" in dashboard


def test_balance_sweep_keeps_under_the_rate_and_recovers_from_429(live_stack):
    """1,000 contractors at 200 calls/s; three injected 429s are retried, none skipped."""
    client = live_stack.client()
    profiles = []
    for n in range(1000):
        account = client.v1.accounts.create({"type": "express", "country": "US"})
        user = User.objects.create(email=f"sweep{n}@example.com")
        profiles.append(UserProfile(user=user, role="contractor", stripe_id=account.id))
    UserProfile.objects.bulk_create(profiles)
    live_stack.control("DELETE", "/_sandbox/requests")
    live_stack.control(
        "POST", "/_sandbox/faults", {"path": "/v1/balance", "kind": "429", "count": 3}
    )

    stats = connect.balances_sweep(rate_per_sec=200)

    assert stats == {"refreshed": 1000, "rate_limited": 3, "failed": 0}
    calls = live_stack.control("GET", "/_sandbox/requests?path=/v1/balance")["requests"]
    assert len(calls) == 1003
    assert Counter(c["status"] for c in calls) == {200: 1000, 429: 3}
    per_second = Counter(int(c["t"]) for c in calls)
    assert max(per_second.values()) <= 200 + 5  # a one-second bucket may straddle two slots
    elapsed = calls[-1]["t"] - calls[0]["t"]
    assert 1000 / elapsed <= 200
