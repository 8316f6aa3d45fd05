"""Disputes end to end on the sandbox: a buyer pays with a dispute test card, the
contractor fulfils, the bank disputes the captured charge; webhooks, a real Celery
worker and the sandbox recover the money from the contractor, staff answer in admin,
and a won dispute gives it back. The money is checked to the cent on both sides."""

import pytest
from django.urls import reverse

from accounts.models import UserProfile
from payments import gateway
from payments.dispatch import dispatch_overdue
from payments.models import ContractorDebit, Dispute, DisputeAction, Payment
from payments.services.intents import payment_intent_ensure
from payments.services.reconcile import reconcile
from shop.services import checkout_create, order_fulfil
from tests.factories import BuyerFactory, ProductFactory, StaffFactory
from tests.integration.conftest import wait_for
from tests.integration.flows import (
    browser_confirms,
    connected_balance,
    onboarded_contractor,
    order_status,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.celery_worker]
DISPUTE_FEE = 1500


@pytest.fixture
def fees(settings):
    settings.PLATFORM_FEE_BPS = 1000
    settings.PLATFORM_FEE_FIXED = 30


def total(balance):
    pending, available = balance
    return pending + available


def platform_total():
    balance = gateway.balance_retrieve()
    return sum(f["amount"] for f in balance["available"] + balance["pending"])


def disputed_order(sandbox, seller, price, card="pm_card_createDispute"):
    """A buyer pays `price` with a dispute test card; the seller fulfils (capture)."""
    product = ProductFactory(seller=seller, price_amount=price)
    checkout_id = checkout_create(buyer=BuyerFactory(), items=[(product.pk, 1)])
    payment = Payment.objects.get(order__checkout_id=checkout_id)
    payment_intent_ensure(payment_id=payment.pk)
    browser_confirms(sandbox, payment, card)
    wait_for(lambda: order_status(payment.order_id) == "authorized", what="authorisation")
    order_fulfil(order_id=payment.order_id, seller=seller)
    wait_for(lambda: order_status(payment.order_id) == "captured", what="capture")
    payment.refresh_from_db()
    return payment


def until(check, what):
    """`wait_for`, with the dispatcher (Celery beat's job) running between looks: work
    that waits (a webhook retried, a give-back for a settled debit) is handed out."""

    def look():
        dispatch_overdue()
        return check()

    return wait_for(look, timeout=30, interval=0.2, what=what)


def recovered(payment, amount):
    return until(
        lambda: ContractorDebit.objects.filter(
            order=payment.order, status="succeeded", amount=amount
        ).exists(),
        f"a reversal of {amount}",
    )


def test_lost_dispute_is_recovered_from_the_contractor(live_stack, fees, settings):
    settings.DISPUTE_FEE_POLICY = "platform"
    seller = onboarded_contractor(live_stack, "lost@example.com")
    account = UserProfile.objects.get(user=seller).stripe_id
    before = platform_total()
    payment = disputed_order(live_stack, seller, 10_000)  # fee 1,030; contractor 8,970

    dispute = until(lambda: Dispute.objects.filter(funds_withdrawn=True).first(), "withdrawal")
    assert (dispute.amount, dispute.reason, dispute.status) == (
        10_000,
        "fraudulent",
        "needs_response",
    )
    assert dispute.fee_amount == DISPUTE_FEE
    assert dispute.payment == payment
    recovered(payment, 8_970)
    live_stack.control(
        "POST", f"/_sandbox/disputes/{dispute.stripe_dispute_id}/resolve", {"outcome": "lost"}
    )
    until(lambda: Dispute.objects.get(pk=dispute.pk).status == "lost", "the dispute lost")

    # The contractor gave back all they were paid; the platform gave up its fee and
    # is whole except for Stripe's dispute fee, which it bears by policy.
    assert total(connected_balance(account)) == 0
    assert platform_total() == before - DISPUTE_FEE
    client = live_stack.client()
    transfer = client.v1.transfers.retrieve(
        client.v1.charges.retrieve(payment.stripe_charge_id).transfer
    )
    assert transfer.amount_reversed == 8_970
    assert not DisputeAction.objects.exists()  # nothing to give back
    assert not [m for m in reconcile() if m.kind == "dispute"]


def test_contractor_pays_the_fee_by_policy(live_stack, fees, settings):
    settings.DISPUTE_FEE_POLICY = "contractor"
    seller = onboarded_contractor(live_stack, "feepolicy@example.com")
    account = UserProfile.objects.get(user=seller).stripe_id
    before = platform_total()
    payment = disputed_order(live_stack, seller, 5_000, "pm_card_createDisputeProductNotReceived")
    dispute = until(lambda: Dispute.objects.filter(funds_withdrawn=True).first(), "withdrawal")
    assert dispute.reason == "product_not_received"
    recovered(payment, 5_000 - 530)
    until(
        lambda: ContractorDebit.objects.filter(
            method="account_debit", amount=DISPUTE_FEE, status="succeeded"
        ).exists(),
        "the fee debit",
    )
    assert total(connected_balance(account)) == -DISPUTE_FEE
    assert platform_total() == before  # whole: the contractor paid the fee too


def test_staff_submit_evidence_and_a_won_dispute_gives_the_money_back(
    live_stack, fees, settings, client
):
    settings.DISPUTE_FEE_POLICY = "platform"
    seller = onboarded_contractor(live_stack, "won@example.com")
    account = UserProfile.objects.get(user=seller).stripe_id
    before = platform_total()
    payment = disputed_order(live_stack, seller, 10_000)
    dispute = until(lambda: Dispute.objects.filter(funds_withdrawn=True).first(), "withdrawal")
    recovered(payment, 8_970)
    assert total(connected_balance(account)) == 0

    client.force_login(StaffFactory())
    url = reverse("admin:payments_dispute_change", args=[dispute.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert payment.order.buyer.email.encode() in page.content  # pre-filled evidence
    response = client.post(
        url,
        {
            "product_description": "A walnut bowl, delivered.",
            "customer_email_address": payment.order.buyer.email,
            # Stripe's test-mode evidence that wins the dispute.
            "uncategorized_text": "winning_evidence",
            "submit": "Submit evidence",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    until(
        lambda: DisputeAction.objects.filter(kind="submit", status="succeeded").exists(), "submit"
    )
    at_stripe = gateway.dispute_retrieve(dispute=dispute.stripe_dispute_id)
    assert at_stripe["evidence"]["product_description"] == "A walnut bowl, delivered."
    assert at_stripe["evidence_details"]["submission_count"] == 1

    until(lambda: Dispute.objects.get(pk=dispute.pk).status == "won", "the dispute won")
    give_back = until(
        lambda: DisputeAction.objects.filter(kind="return_funds", status="succeeded").first(),
        "the give-back",
    )
    assert give_back.amount == 8_970
    dispute.refresh_from_db()
    assert dispute.funds_reinstated
    assert dispute.submitted_at is not None
    # Everyone is back where the sale left them: the contractor holds 8,970, the
    # platform its 1,030 fee (Stripe returned the amount and its dispute fee).
    assert total(connected_balance(account)) == 8_970
    assert platform_total() == before + 1_030


def test_a_disputed_checkout_charge_reverses_the_paid_contractors_transfer(
    live_stack, fees, settings
):
    """Two contractors' orders paid by one platform charge; Alice fulfils (the charge is
    captured and disputed), Bob has not: only Alice was paid, and only her transfer is
    reversed, for her share of the dispute capped at what she was paid."""
    from payments.services.intents import payment_intents_ensure

    settings.DISPUTE_FEE_POLICY = "platform"
    alice = onboarded_contractor(live_stack, "sct-dispute-alice@example.com")
    bob = onboarded_contractor(live_stack, "sct-dispute-bob@example.com")
    alice_account = UserProfile.objects.get(user=alice).stripe_id
    before = platform_total()
    board = ProductFactory(seller=alice, price_amount=4500)
    mug = ProductFactory(seller=bob, price_amount=3000)
    checkout_id = checkout_create(buyer=BuyerFactory(), items=[(board.pk, 2), (mug.pk, 1)])
    rows = Payment.objects.filter(order__checkout_id=checkout_id)
    to_alice, to_bob = rows.get(order__seller=alice), rows.get(order__seller=bob)
    payment_intents_ensure(payment_ids=[to_alice.pk, to_bob.pk])
    browser_confirms(live_stack, to_alice, "pm_card_createDispute")
    for payment in (to_alice, to_bob):
        wait_for(lambda p=payment: order_status(p.order_id) == "authorized", what="authorised")
    order_fulfil(order_id=to_alice.order_id, seller=alice)

    dispute = until(lambda: Dispute.objects.filter(funds_withdrawn=True).first(), "withdrawal")
    assert dispute.amount == 12_000
    reversal = until(
        lambda: DisputeAction.objects.filter(kind="reverse_transfer", status="succeeded").first(),
        "Alice's transfer reversed (once her money is available)",
    )
    # Alice's share of 120.00 is 90.00; she was paid 80.70: all of it comes back.
    assert (reversal.payment_id, reversal.amount) == (to_alice.pk, 8_070)
    assert not DisputeAction.objects.filter(kind="reverse_transfer", payment=to_bob).exists()
    assert total(connected_balance(alice_account)) == 0
    # The platform: +120.00 charged, −80.70 to Alice and back, −120.00 − 15.00 disputed.
    assert platform_total() == before - DISPUTE_FEE


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_a_contractor_who_fulfils_during_the_dispute_waits_for_its_outcome(
    live_stack, fees, settings, outcome
):
    """Bob fulfils his part of a disputed checkout charge after the bank took the money:
    he is not paid while it is decided. Won, he gets all of his 26.70; lost, his share
    of the dispute (30.00 of 120.00) takes all of it and nothing is sent. Reconcile
    agrees with Stripe either way."""
    from payments.models import Transfer
    from payments.services.intents import payment_intents_ensure

    settings.DISPUTE_FEE_POLICY = "platform"
    alice = onboarded_contractor(live_stack, f"hold-alice-{outcome}@example.com")
    bob = onboarded_contractor(live_stack, f"hold-bob-{outcome}@example.com")
    bob_account = UserProfile.objects.get(user=bob).stripe_id
    board = ProductFactory(seller=alice, price_amount=4500)
    mug = ProductFactory(seller=bob, price_amount=3000)
    checkout_id = checkout_create(buyer=BuyerFactory(), items=[(board.pk, 2), (mug.pk, 1)])
    rows = Payment.objects.filter(order__checkout_id=checkout_id)
    to_alice, to_bob = rows.get(order__seller=alice), rows.get(order__seller=bob)
    payment_intents_ensure(payment_ids=[to_alice.pk, to_bob.pk])
    browser_confirms(live_stack, to_alice, "pm_card_createDispute")
    for payment in (to_alice, to_bob):
        wait_for(lambda p=payment: order_status(p.order_id) == "authorized", what="authorised")
    order_fulfil(order_id=to_alice.order_id, seller=alice)
    dispute = until(lambda: Dispute.objects.filter(funds_withdrawn=True).first(), "withdrawal")

    order_fulfil(order_id=to_bob.order_id, seller=bob)
    held = until(
        lambda: Transfer.objects.filter(payment=to_bob, status="on_hold").first(), "Bob's hold"
    )
    assert held.amount == 2_670
    assert total(connected_balance(bob_account)) == 0

    live_stack.control(
        "POST", f"/_sandbox/disputes/{dispute.stripe_dispute_id}/resolve", {"outcome": outcome}
    )
    if outcome == "won":
        sent = until(
            lambda: Transfer.objects.filter(payment=to_bob, status="succeeded").first(),
            "Bob's transfer sent",
        )
        assert (sent.amount, sent.withheld) == (2_670, 0)
        until(lambda: total(connected_balance(bob_account)) == 2_670, "Bob paid")
    else:
        kept = until(
            lambda: Transfer.objects.filter(payment=to_bob, status="withheld").first(),
            "Bob's transfer withheld",
        )
        assert (kept.amount, kept.withheld) == (0, 2_670)
        assert total(connected_balance(bob_account)) == 0
    until(
        lambda: not DisputeAction.objects.filter(status="pending").exists(),
        "the dispute's work done",
    )
    assert not [m for m in reconcile() if m.kind in ("transfer", "checkout")]


def test_an_inquiry_takes_nothing_until_it_escalates(live_stack, fees, settings):
    """The inquiry card: the bank only asks; nothing is taken from the contractor until
    the inquiry escalates into a chargeback, and then exactly what a chargeback takes."""
    settings.DISPUTE_FEE_POLICY = "platform"
    seller = onboarded_contractor(live_stack, "inquiry@example.com")
    account = UserProfile.objects.get(user=seller).stripe_id
    payment = disputed_order(live_stack, seller, 10_000, card="pm_card_createDisputeInquiry")
    inquiry = until(lambda: Dispute.objects.filter(payment=payment).first(), "the inquiry")
    assert inquiry.status == "warning_needs_response"
    assert not ContractorDebit.objects.exists()
    until(lambda: total(connected_balance(account)) == 8_970, "the contractor paid")

    live_stack.control(
        "POST", f"/_sandbox/disputes/{inquiry.stripe_dispute_id}/resolve", {"outcome": "lost"}
    )
    until(lambda: Dispute.objects.get(pk=inquiry.pk).funds_withdrawn, "the chargeback")
    assert Dispute.objects.get(pk=inquiry.pk).status == "needs_response"
    recovered(payment, 8_970)
    assert total(connected_balance(account)) == 0
