"""Payouts end to end on the sandbox: its clock pays a daily account out, the Connect
webhooks reach the dashboard (a failure explained), and "Pay out now" on a manual
schedule goes out once through a real worker."""

import pytest
from django.urls import reverse

from accounts.models import UserProfile
from payments import gateway
from payments.models import Payout, PayoutRequest, PayoutSchedule
from payments.services import payouts
from tests.integration.conftest import wait_for
from tests.integration.flows import captured_order, connected_balance, onboarded_contractor

pytestmark = [pytest.mark.sandbox, pytest.mark.celery_worker]

DAY = 86_400
FAILING_BANK = {
    "object": "bank_account",
    "country": "US",
    "currency": "usd",
    "routing_number": "110000000",
    "account_number": "000111111113",  # Stripe's test number: account_closed
}


def past_midnight(live_stack, days=1):
    now = live_stack.control("GET", "/_sandbox/clock")["now"]
    live_stack.control("POST", "/_sandbox/clock", {"advance": (now // DAY + days) * DAY + 60 - now})


def test_the_clock_pays_a_daily_account_and_the_dashboard_explains_a_failure(live_stack, client):
    seller = onboarded_contractor(live_stack, "daily@example.com")
    account = UserProfile.objects.get(user=seller).stripe_id
    stripe = live_stack.client()
    stripe.v1.accounts.update(
        account,
        params={
            "settings": {"payouts": {"schedule": {"interval": "daily"}}},
            "external_account": FAILING_BANK,
        },
    )
    # account.updated brings the schedule to us.
    wait_for(
        lambda: PayoutSchedule.objects.filter(account=account, interval="daily").exists(),
        what="the schedule from account.updated",
    )
    captured_order(live_stack, seller, 10_000)  # 8,970 for the contractor
    wait_for(lambda: connected_balance(account) == (0, 8970), what="funds available")

    past_midnight(live_stack)
    wait_for(lambda: Payout.objects.filter(account=account).exists(), what="payout.created")
    payout = Payout.objects.get(account=account)
    assert (payout.amount, payout.status, payout.automatic) == (8970, "pending", True)
    past_midnight(live_stack, days=2)
    wait_for(lambda: Payout.objects.get(account=account).status == "failed", what="payout.failed")
    payout.refresh_from_db()
    assert payout.failure_code == "account_closed"

    client.force_login(seller)
    page = client.get(reverse("accounts:dashboard")).content.decode()
    assert "Daily; money is paid out 2 days after each payment" in page
    assert "Your bank account has been closed." in page
    assert "Update your bank details" in page
    assert connected_balance(account) == (0, 8970)  # the money came back


def test_pay_out_now_goes_out_once_on_a_manual_schedule(live_stack, client):
    seller = onboarded_contractor(live_stack, "manual@example.com")
    account = UserProfile.objects.get(user=seller).stripe_id
    payouts.payout_outlook_refresh(user_id=seller.pk, force=True)
    assert PayoutSchedule.objects.get(account=account).interval == "manual"
    captured_order(live_stack, seller, 10_000)
    wait_for(lambda: connected_balance(account) == (0, 8970), what="funds available")

    client.force_login(seller)
    for _click in range(2):
        client.post(reverse("accounts:payout_now"), {"currency": "usd"})
    wait_for(
        lambda: PayoutRequest.objects.filter(status="sent").exists(), what="the payout request"
    )
    assert PayoutRequest.objects.count() == 1
    sent = gateway.balance_retrieve(account=account)
    assert sum(fund["amount"] for fund in sent["available"]) == 0
    wait_for(lambda: Payout.objects.filter(account=account).exists(), what="the payout row")
    payout = Payout.objects.get(account=account)
    assert (payout.amount, payout.automatic) == (8970, False)
