"""A checkout of two contractors' orders, end to end: one platform charge the buyer
authorises once, a transfer to each contractor only when *their* order is fulfilled,
refunds of one contractor's part before and after their transfer, and the platform
keeping exactly the fees, to the cent. The real gateway over HTTP to the sandbox,
signed webhooks to the live server, a real Celery worker; reconciliation at the end.

Fees: 10 % + 30. Alice sells 2 × 45.00 = 90.00 (fee 9.30, she gets 80.70); Bob sells
30.00 (fee 3.30, he gets 26.70). The buyer is charged 120.00 once.
"""

import pytest

from accounts.models import UserProfile
from payments import gateway
from payments.dispatch import dispatch_overdue
from payments.models import Payment, Refund, Transfer, TransferReversal
from payments.services.intents import payment_cancel_request, payment_intents_ensure
from payments.services.reconcile import reconcile
from payments.services.refunds import refund_request
from shop.models import Order
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


@pytest.fixture
def fees(settings):
    settings.PLATFORM_FEE_BPS = 1000
    settings.PLATFORM_FEE_FIXED = 30
    settings.REFUND_REVERSE_TRANSFER = True
    settings.REFUND_APPLICATION_FEE = True


def total(balance):
    pending, available = balance
    return pending + available


def platform_total(currency="usd"):
    balance = gateway.balance_retrieve()
    return sum(
        entry["amount"]
        for kind in ("pending", "available")
        for entry in balance[kind]
        if entry["currency"] == currency
    )


def until(check, what, timeout=30.0):
    """Wait for `check`, handing out work due again meanwhile (beat's dispatcher)."""

    def step():
        dispatch_overdue()
        return check()

    wait_for(step, timeout=timeout, interval=0.2, what=what)


def authorised_checkout(sandbox, alice, bob):
    """The buyer checks out one cart of Alice's and Bob's products and confirms once."""
    board = ProductFactory(seller=alice, price_amount=4500)
    mug = ProductFactory(seller=bob, price_amount=3000)
    checkout_id = checkout_create(buyer=BuyerFactory(), items=[(board.pk, 2), (mug.pk, 1)])
    ours = Payment.objects.filter(order__checkout_id=checkout_id)
    theirs = ours.get(order__seller=alice), ours.get(order__seller=bob)

    intents = payment_intents_ensure(payment_ids=[p.pk for p in theirs])

    # One platform charge for the whole checkout: no fee, no destination, a group.
    assert intents[0] == intents[1]
    intent = intents[0]
    assert (intent["amount"], intent["capture_method"]) == (12_000, "manual")
    assert intent["transfer_group"] == str(checkout_id)
    assert intent["application_fee_amount"] is None
    assert intent["transfer_data"] is None
    browser_confirms(sandbox, theirs[0], "pm_card_visa")  # the one authentication
    for payment in theirs:
        wait_for(lambda p=payment: order_status(p.order_id) == "authorized", what="authorised")
    for payment in theirs:
        payment.refresh_from_db()
    return theirs


def accounts(alice, bob):
    return (
        UserProfile.objects.get(user=alice).stripe_id,
        UserProfile.objects.get(user=bob).stripe_id,
    )


def test_each_contractor_is_paid_when_they_fulfil_and_refunds_take_their_share_back(
    live_stack, fees
):
    alice = onboarded_contractor(live_stack, "sct-alice@example.com")
    bob = onboarded_contractor(live_stack, "sct-bob@example.com")
    alice_account, bob_account = accounts(alice, bob)
    to_alice, to_bob = authorised_checkout(live_stack, alice, bob)
    assert (to_alice.amount, to_alice.application_fee_amount) == (9_000, 930)
    assert (to_bob.amount, to_bob.application_fee_amount) == (3_000, 330)
    assert total(connected_balance(alice_account)) == total(connected_balance(bob_account)) == 0
    assert platform_total() == 0  # held on the card, nothing moved yet

    # Alice fulfils: the whole charge is captured; only Alice is paid.
    order_fulfil(order_id=to_alice.order_id, seller=alice)
    until(lambda: Transfer.objects.filter(status="succeeded").count() == 1, "Alice's transfer")
    assert order_status(to_alice.order_id) == "captured"
    assert order_status(to_bob.order_id) == "authorized"
    transfer = Transfer.objects.get(payment=to_alice)
    assert (transfer.amount, transfer.destination_account) == (8_070, alice_account)
    stripe_transfer = live_stack.client().v1.transfers.retrieve(transfer.stripe_transfer_id)
    assert stripe_transfer.source_transaction == to_alice.stripe_charge_id
    assert stripe_transfer.transfer_group == to_alice.transfer_group
    assert total(connected_balance(alice_account)) == 8_070
    assert total(connected_balance(bob_account)) == 0  # not fulfilled: not paid
    # The platform holds Bob's 30.00 and keeps Alice's fee.
    assert platform_total() == 12_000 - 8_070 == 930 + 3_000
    bob_row = Payment.objects.get(pk=to_bob.pk)
    assert (bob_row.status, bob_row.amount_captured) == ("authorized", 3_000)
    assert reconcile() == []

    # Bob fulfils: his money is on the platform already; he is paid at once.
    order_fulfil(order_id=to_bob.order_id, seller=bob)
    assert order_status(to_bob.order_id) == "captured"
    until(lambda: Transfer.objects.filter(status="succeeded").count() == 2, "Bob's transfer")
    assert total(connected_balance(bob_account)) == 2_670
    assert platform_total() == 930 + 330  # exactly the fees
    assert reconcile() == []

    # Staff refund 10.00 of Bob's order after his transfer: the buyer gets 10.00 back,
    # Bob gives back his share of it (2,670 × 1,000 / 3,000 = 890), the platform its
    # share of the fee (110). Bob's money may still be pending: the reversal waits.
    staff = StaffFactory()
    refund_request(payment_id=to_bob.pk, amount=1_000, requested_by_id=staff.pk)
    until(lambda: TransferReversal.objects.filter(status="succeeded").count() == 1, "reversal")
    assert TransferReversal.objects.get().amount == 890
    assert order_status(to_bob.order_id) == "partially_refunded"
    assert total(connected_balance(bob_account)) == 2_670 - 890
    assert platform_total() == 930 + 330 - 1_000 + 890 == 930 + 220
    assert reconcile() == []

    # And the rest: every cent of Bob's transfer comes back, the platform keeps
    # Alice's fee and nothing of Bob's.
    refund_request(payment_id=to_bob.pk, amount=2_000, requested_by_id=staff.pk)
    until(lambda: TransferReversal.objects.filter(status="succeeded").count() == 2, "reversal")
    assert sorted(TransferReversal.objects.values_list("amount", flat=True)) == [890, 1_780]
    assert order_status(to_bob.order_id) == "refunded"
    assert total(connected_balance(bob_account)) == 0
    assert total(connected_balance(alice_account)) == 8_070
    assert platform_total() == 930
    charge = live_stack.client().v1.charges.retrieve(to_alice.stripe_charge_id)
    assert (charge.amount_captured, charge.amount_refunded) == (12_000, 3_000)
    assert reconcile() == []


def test_an_order_canceled_after_the_capture_is_refunded_and_its_contractor_never_paid(
    live_stack, fees
):
    alice = onboarded_contractor(live_stack, "held-alice@example.com")
    bob = onboarded_contractor(live_stack, "held-bob@example.com")
    alice_account, bob_account = accounts(alice, bob)
    to_alice, to_bob = authorised_checkout(live_stack, alice, bob)
    order_fulfil(order_id=to_alice.order_id, seller=alice)
    until(lambda: Transfer.objects.filter(status="succeeded").exists(), "Alice's transfer")

    # Bob's order is canceled before he fulfils: his part of the captured charge goes
    # back to the buyer (a partial refund); there is no transfer to reverse.
    assert payment_cancel_request(payment_id=to_bob.pk, reason="requested_by_customer")
    until(lambda: Refund.objects.filter(status="succeeded").exists(), "the refund of Bob's part")
    refund = Refund.objects.get()
    assert (refund.payment_id, refund.amount, refund.reverse_transfer) == (to_bob.pk, 3_000, False)
    assert order_status(to_bob.order_id) == "canceled"
    assert not Transfer.objects.filter(payment=to_bob).exists()
    assert not TransferReversal.objects.exists()
    assert total(connected_balance(bob_account)) == 0
    assert total(connected_balance(alice_account)) == 8_070
    assert platform_total() == 930  # Alice's fee, and nothing else
    assert reconcile() == []


def test_an_order_canceled_before_the_capture_is_left_out_of_it(live_stack, fees):
    alice = onboarded_contractor(live_stack, "out-alice@example.com")
    bob = onboarded_contractor(live_stack, "out-bob@example.com")
    alice_account, bob_account = accounts(alice, bob)
    to_alice, to_bob = authorised_checkout(live_stack, alice, bob)

    # Bob's order is canceled while the charge is only authorised: no Stripe call
    # now; the capture at Alice's fulfilment takes her part only, the rest of the
    # hold is released.
    assert payment_cancel_request(payment_id=to_bob.pk, reason="requested_by_customer")
    wait_for(lambda: order_status(to_bob.order_id) == "canceled", what="Bob's order canceled")
    order_fulfil(order_id=to_alice.order_id, seller=alice)
    until(lambda: Transfer.objects.filter(status="succeeded").exists(), "Alice's transfer")

    charge = live_stack.client().v1.charges.retrieve(to_alice.stripe_charge_id)
    assert (charge.amount_captured, charge.amount_refunded) == (9_000, 3_000)  # released
    assert not Refund.objects.exists()
    assert total(connected_balance(alice_account)) == 8_070
    assert total(connected_balance(bob_account)) == 0
    assert platform_total() == 930
    assert reconcile() == []


def test_an_unpaid_order_leaving_the_checkout_lowers_what_the_card_is_asked(live_stack, fees):
    alice = onboarded_contractor(live_stack, "unpaid-alice@example.com")
    bob = onboarded_contractor(live_stack, "unpaid-bob@example.com")
    board = ProductFactory(seller=alice, price_amount=4500)
    mug = ProductFactory(seller=bob, price_amount=3000)
    checkout_id = checkout_create(buyer=BuyerFactory(), items=[(board.pk, 2), (mug.pk, 1)])
    rows = list(Payment.objects.filter(order__checkout_id=checkout_id).order_by("pk"))
    [intent, _] = payment_intents_ensure(payment_ids=[p.pk for p in rows])
    to_bob = next(p for p in rows if p.order.seller_id == bob.pk)

    assert payment_cancel_request(payment_id=to_bob.pk, reason="requested_by_customer")
    wait_for(lambda: order_status(to_bob.order_id) == "canceled", what="Bob's order canceled")

    assert live_stack.client().v1.payment_intents.retrieve(intent["id"]).amount == 9_000
    to_alice = next(p for p in rows if p.pk != to_bob.pk)
    browser_confirms(live_stack, to_alice, "pm_card_visa")
    wait_for(lambda: order_status(to_alice.order_id) == "authorized", what="authorised")
    assert Order.objects.get(pk=to_bob.order_id).status == "canceled"
    assert reconcile() == []


def test_reconcile_reports_transfers_made_or_reversed_behind_the_shops_back(live_stack, fees):
    alice = onboarded_contractor(live_stack, "rec-sct-alice@example.com")
    bob = onboarded_contractor(live_stack, "rec-sct-bob@example.com")
    alice_account, bob_account = accounts(alice, bob)
    to_alice, to_bob = authorised_checkout(live_stack, alice, bob)
    order_fulfil(order_id=to_alice.order_id, seller=alice)
    until(lambda: Transfer.objects.filter(status="succeeded").exists(), "Alice's transfer")
    assert reconcile() == []
    transfer = Transfer.objects.get()
    live_stack.control("POST", "/_sandbox/balance/settle", {})

    client = live_stack.client()
    # Bob paid from the checkout's charge though he did not fulfil, and part of
    # Alice's transfer taken back: both outside the shop.
    stray = client.v1.transfers.create(
        params={
            "amount": 500,
            "currency": "usd",
            "destination": bob_account,
            "source_transaction": to_alice.stripe_charge_id,
            "transfer_group": to_alice.transfer_group,
        }
    )
    client.v1.transfers.reversals.create(transfer.stripe_transfer_id, params={"amount": 70})

    found = {(m.kind, m.stripe_id, m.field, m.our_value, m.stripe_value) for m in reconcile()}
    assert ("transfer", stray.id, "exists", "no", f"500 usd to {bob_account}") in found
    assert ("transfer", transfer.stripe_transfer_id, "amount_reversed", "0", "70") in found
    keeps = next(m for m in reconcile() if m.field == "platform keeps")
    # Ours: Alice's fee and Bob's held 30.00; Stripe's: 5.00 less, plus 0.70 back.
    assert (keeps.our_value, keeps.stripe_value) == ("3930", str(3_930 - 500 + 70))
    assert alice_account
