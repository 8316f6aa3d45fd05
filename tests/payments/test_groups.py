"""A checkout of several contractors paid as one platform charge, with the gateway
patched: the exact calls, and what each step writes (payments/services/groups.py,
transfers.py)."""

import uuid
from unittest import mock

import pytest
from django.db import transaction

from notifications.models import Notification
from payments import gateway
from payments.models import Payment, Refund, Transfer, TransferReversal
from payments.services import intents, refunds, stripe_reads, transfers
from payments.services.waits import NotYet
from shop.models import Order
from tests.factories import BuyerFactory, OrderFactory, PaymentFactory

pytestmark = pytest.mark.django_db

GATEWAY = [
    "customer_create",
    "payment_intent_create",
    "platform_payment_intent_create",
    "payment_intent_retrieve",
    "payment_intent_update",
    "payment_intent_capture",
    "payment_intent_cancel",
    "refund_create",
    "transfer_create",
    "transfer_reversal_create",
]


@pytest.fixture(autouse=True)
def _cheap_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def gw(monkeypatch):
    fake = mock.MagicMock()
    for name in GATEWAY:
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    fake.customer_create.return_value = {"id": "cus_1"}
    return fake


def checkout(amounts=(9_000, 3_000), fees=(930, 330), intent=None):
    """One buyer's checkout of one order per contractor, with their Payment rows."""
    buyer = BuyerFactory()
    checkout_id = uuid.uuid4()
    rows = []
    for n, (amount, fee) in enumerate(zip(amounts, fees, strict=True)):
        order = OrderFactory(buyer=buyer, checkout_id=checkout_id, amount=amount, fee_amount=fee)
        rows.append(
            PaymentFactory(
                order=order,
                stripe_payment_intent_id=intent,
                transfer_group=str(checkout_id) if intent else "",
                destination_account=f"acct_seller{n}",
            )
        )
    return rows


def snapshot(rows, status, **fields):
    amount = fields.pop("amount", sum(r.amount for r in rows))
    intent = {
        "id": rows[0].stripe_payment_intent_id,
        "object": "payment_intent",
        "status": status,
        "amount": amount,
        "currency": "usd",
        "amount_capturable": amount if status == "requires_capture" else 0,
        "amount_received": amount if status == "succeeded" else 0,
        "application_fee_amount": None,
        "transfer_data": None,
        "transfer_group": rows[0].transfer_group,
        "created": 1_800_000_000,
        "latest_charge": "ch_group",
        "last_payment_error": None,
        "client_secret": "pi_group_secret",
    }
    intent.update(fields)
    return intent


def fresh(*rows):
    return [Payment.objects.get(pk=row.pk) for row in rows]


def authorised(rows):
    with transaction.atomic():
        intents.payment_apply_intent(snapshot(rows, "requires_capture"))
    return fresh(*rows)


def fulfil(row):
    """What shop.services.order_fulfil does: the order fulfilled, its capture asked."""
    with transaction.atomic():
        Order.objects.filter(pk=row.order_id).update(status=Order.Status.FULFILLED)
        return intents.payment_capture_request(payment_id=row.pk)


# --- One intent for the checkout ------------------------------------------------------


def test_a_checkout_of_two_contractors_gets_one_platform_intent(gw):
    to_alice, to_bob = checkout()
    gw.platform_payment_intent_create.return_value = {
        "id": "pi_group",
        "client_secret": "pi_group_secret",
        "transfer_group": str(to_alice.order.checkout_id),
        "status": "requires_payment_method",
    }

    made = intents.payment_intents_ensure(payment_ids=[to_bob.pk])  # one order's page

    checkout_id = str(to_alice.order.checkout_id)
    gw.platform_payment_intent_create.assert_called_once_with(
        amount=12_000,
        currency="usd",
        customer="cus_1",
        transfer_group=checkout_id,
        checkout_id=checkout_id,
        order_ids=[to_alice.order_id, to_bob.order_id],
        idempotency_key=f"payment-{to_alice.pk}-intent",
    )
    gw.payment_intent_create.assert_not_called()
    assert made[0]["id"] == "pi_group"
    assert {(p.stripe_payment_intent_id, p.transfer_group) for p in fresh(to_alice, to_bob)} == {
        ("pi_group", checkout_id)
    }

    gw.payment_intent_retrieve.return_value = snapshot(fresh(to_alice)[:1], "requires_capture")
    again = intents.payment_intents_ensure(payment_ids=[to_alice.pk, to_bob.pk])
    assert again[0] is again[1]
    gw.payment_intent_retrieve.assert_called_once_with(payment_intent="pi_group")


def test_a_checkout_already_paid_per_order_stays_so(gw):
    to_alice, to_bob = checkout()
    Payment.objects.filter(pk=to_alice.pk).update(stripe_payment_intent_id="pi_alice")
    gw.payment_intent_create.return_value = {"id": "pi_bob", "client_secret": "s"}

    intents.payment_intents_ensure(payment_ids=[to_bob.pk])

    gw.platform_payment_intent_create.assert_not_called()
    assert gw.payment_intent_create.call_args.kwargs["destination"] == "acct_seller1"


# --- Following the intent ------------------------------------------------------------


def test_one_authorisation_authorises_every_order_of_the_checkout(gw):
    rows = checkout(intent="pi_group")

    to_alice, to_bob = authorised(rows)

    assert (to_alice.status, to_alice.amount_authorized) == ("authorized", 9_000)
    assert (to_bob.status, to_bob.amount_authorized) == ("authorized", 3_000)
    assert to_alice.stripe_charge_id == "ch_group"
    assert {o.status for o in Order.objects.all()} == {"authorized"}


def test_one_decline_fails_every_order_and_tells_the_buyer_once(
    gw, django_capture_on_commit_callbacks
):
    rows = checkout(intent="pi_group")
    error = {"code": "card_declined", "decline_code": "insufficient_funds", "charge": "ch_1"}
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        intents.payment_apply_intent(
            snapshot(rows, "requires_payment_method", last_payment_error=error)
        )

    assert {o.status for o in Order.objects.all()} == {"failed"}
    assert {p.last_error_code for p in fresh(*rows)} == {"insufficient_funds"}
    assert Notification.objects.filter(kind="payment_failed").count() == 1


# --- Capture and transfers --------------------------------------------------------------


def test_the_first_fulfilment_captures_everything_and_pays_only_that_contractor(gw):
    to_alice, to_bob = authorised(checkout(intent="pi_group"))
    assert fulfil(to_alice) is True
    gw.payment_intent_capture.return_value = snapshot([to_alice, to_bob], "succeeded")

    intents.payment_capture(payment_id=to_alice.pk)

    gw.payment_intent_capture.assert_called_once_with(
        payment_intent="pi_group",
        idempotency_key=f"payment-{to_alice.pk}-capture-12000",
        amount_to_capture=None,
        platform_charge=True,
    )
    to_alice, to_bob = fresh(to_alice, to_bob)
    assert (to_alice.status, to_alice.amount_captured, to_alice.action) == ("captured", 9_000, "")
    assert (to_bob.status, to_bob.amount_captured) == ("authorized", 3_000)  # held
    assert to_bob.capture_before is None
    transfer = Transfer.objects.get()
    assert (transfer.payment_id, transfer.amount, transfer.destination_account) == (
        to_alice.pk,
        9_000 - 930,
        "acct_seller0",
    )
    assert (transfer.source_charge, transfer.transfer_group) == (
        "ch_group",
        to_alice.transfer_group,
    )
    assert transfer.status == "pending"
    assert transfer.due_at is not None
    assert Order.objects.get(pk=to_bob.order_id).status == "authorized"


def test_a_later_fulfilment_is_paid_at_once_without_asking_stripe(gw):
    to_alice, to_bob = authorised(checkout(intent="pi_group"))
    fulfil(to_alice)
    gw.payment_intent_capture.return_value = snapshot([to_alice, to_bob], "succeeded")
    intents.payment_capture(payment_id=to_alice.pk)
    gw.reset_mock()

    assert fulfil(to_bob) is True

    assert not gw.method_calls
    to_bob = fresh(to_bob)[0]
    assert to_bob.status == "captured"
    assert Order.objects.get(pk=to_bob.order_id).status == "captured"
    assert Transfer.objects.get(payment=to_bob).amount == 3_000 - 330


def test_an_order_canceled_before_the_capture_is_left_out_of_it(gw):
    to_alice, to_bob = authorised(checkout(intent="pi_group"))

    assert intents.payment_cancel_request(payment_id=to_bob.pk)
    intents.payment_cancel_requested(payment_id=to_bob.pk)

    assert not gw.method_calls  # its hold goes with the rest of the authorisation
    assert fresh(to_bob)[0].status == "canceled"
    assert Order.objects.get(pk=to_bob.order_id).status == "canceled"
    fulfil(to_alice)
    gw.payment_intent_capture.return_value = snapshot(
        [to_alice, to_bob], "succeeded", amount=12_000, amount_received=9_000
    )
    intents.payment_capture(payment_id=to_alice.pk)
    assert gw.payment_intent_capture.call_args.kwargs["amount_to_capture"] == 9_000
    # Another amount, another key: Stripe refuses a key seen with other parameters.
    assert (
        gw.payment_intent_capture.call_args.kwargs["idempotency_key"]
        == f"payment-{to_alice.pk}-capture-9000"
    )
    assert fresh(to_alice)[0].status == "captured"
    assert not Order.objects.filter(flagged=True).exists()


def test_a_cancellation_waits_while_the_checkouts_capture_is_on_its_way(gw):
    to_alice, to_bob = authorised(checkout(intent="pi_group"))
    fulfil(to_alice)
    intents.payment_cancel_request(payment_id=to_bob.pk)

    with pytest.raises(NotYet):
        intents.payment_cancel_requested(payment_id=to_bob.pk)
    assert fresh(to_bob)[0].status == "authorized"

    gw.payment_intent_capture.return_value = snapshot([to_alice, to_bob], "succeeded")
    intents.payment_capture(payment_id=to_alice.pk)
    intents.payment_cancel_requested(payment_id=to_bob.pk)  # now: its part is refunded

    refund = Refund.objects.get()
    assert (refund.payment_id, refund.amount, refund.status) == (to_bob.pk, 3_000, "requested")
    assert (refund.reverse_transfer, refund.refund_application_fee) == (False, False)
    assert refund.due_at is not None
    assert fresh(to_bob)[0].status == "canceled"
    assert not Transfer.objects.filter(payment=to_bob).exists()


def test_the_last_order_to_go_cancels_the_intent_with_the_lead_rows_key(gw):
    to_alice, to_bob = authorised(checkout(intent="pi_group"))
    intents.payment_cancel_request(payment_id=to_alice.pk, reason="abandoned")
    intents.payment_cancel_request(payment_id=to_bob.pk, reason="abandoned")
    gw.payment_intent_cancel.return_value = snapshot(
        [to_alice, to_bob], "canceled", cancellation_reason="abandoned"
    )

    intents.payment_cancel_requested(payment_id=to_bob.pk)

    gw.payment_intent_cancel.assert_called_once_with(
        payment_intent="pi_group",
        reason="abandoned",
        idempotency_key=f"payment-{to_alice.pk}-cancel",
    )
    assert {p.status for p in fresh(to_alice, to_bob)} == {"canceled"}
    assert {o.status for o in Order.objects.all()} == {"expired"}
    intents.payment_cancel_requested(payment_id=to_alice.pk)  # nothing left to do
    assert gw.payment_intent_cancel.call_count == 1


def test_an_unpaid_order_leaving_lowers_the_intents_amount(gw):
    to_alice, to_bob = checkout(intent="pi_group")
    intents.payment_cancel_request(payment_id=to_bob.pk)
    gw.payment_intent_update.return_value = snapshot(
        [to_alice], "requires_payment_method", amount=9_000
    )

    intents.payment_cancel_requested(payment_id=to_bob.pk)

    gw.payment_intent_update.assert_called_once_with(
        payment_intent="pi_group",
        amount=9_000,
        idempotency_key=f"payment-{to_alice.pk}-amount-9000",
    )
    assert [p.status for p in fresh(to_alice, to_bob)] == ["pending", "canceled"]


def test_a_transfer_is_sent_with_its_rows_key_and_recorded(gw):
    to_alice, to_bob = authorised(checkout(intent="pi_group"))
    fulfil(to_alice)
    gw.payment_intent_capture.return_value = snapshot([to_alice, to_bob], "succeeded")
    intents.payment_capture(payment_id=to_alice.pk)
    transfer = Transfer.objects.get()
    gw.transfer_create.return_value = {
        "id": "tr_1",
        "amount": 8_070,
        "destination": "acct_seller0",
        "source_transaction": "ch_group",
        "metadata": {"transfer_id": str(transfer.pk)},
    }

    transfers.transfer_execute(transfer_id=transfer.pk)

    gw.transfer_create.assert_called_once_with(
        amount=8_070,
        currency="usd",
        destination="acct_seller0",
        source_transaction="ch_group",
        transfer_group=to_alice.transfer_group,
        order_id=to_alice.order_id,
        transfer_id=transfer.pk,
        idempotency_key=f"transfer-{transfer.pk}",
    )
    transfer.refresh_from_db()
    assert (transfer.status, transfer.stripe_transfer_id) == ("succeeded", "tr_1")
    assert fresh(to_alice)[0].stripe_transfer_id == "tr_1"


def test_a_refused_transfer_flags_the_order_and_a_resend_uses_the_next_key(gw):
    to_alice, to_bob = authorised(checkout(intent="pi_group"))
    fulfil(to_alice)
    gw.payment_intent_capture.return_value = snapshot([to_alice, to_bob], "succeeded")
    intents.payment_capture(payment_id=to_alice.pk)
    transfer = Transfer.objects.get()
    gw.transfer_create.side_effect = gateway.GatewayRejected("no transfers capability")

    transfers.transfer_execute(transfer_id=transfer.pk)

    transfer.refresh_from_db()
    assert (transfer.status, transfer.refusals) == ("failed", 1)
    assert Order.objects.get(pk=to_alice.order_id).flagged
    Transfer.objects.filter(pk=transfer.pk).update(status="pending")  # staff: send again
    gw.transfer_create.side_effect = None
    gw.transfer_create.return_value = {"id": "tr_2", "metadata": {}}
    transfers.transfer_execute(transfer_id=transfer.pk)
    assert gw.transfer_create.call_args.kwargs["idempotency_key"] == (
        f"transfer-{transfer.pk}/after-1"
    )


# --- Refunds after a transfer -----------------------------------------------------------


def paid_checkout(gw):
    """Both contractors fulfilled and paid: Bob's transfer is tr_bob (2,670)."""
    to_alice, to_bob = authorised(checkout(intent="pi_group"))
    fulfil(to_alice)
    gw.payment_intent_capture.return_value = snapshot([to_alice, to_bob], "succeeded")
    intents.payment_capture(payment_id=to_alice.pk)
    fulfil(to_bob)
    transfer = Transfer.objects.get(payment=to_bob)
    Transfer.objects.filter(pk=transfer.pk).update(status="succeeded", stripe_transfer_id="tr_bob")
    transfer.refresh_from_db()
    return fresh(to_bob)[0], transfer


def refund_succeeds(gw, payment, amount, **policy):
    refund = refunds.refund_request(payment_id=payment.pk, amount=amount, **policy)
    gw.refund_create.return_value = {
        "id": f"re_{refund.pk}",
        "amount": amount,
        "currency": "usd",
        "status": "succeeded",
        "payment_intent": "pi_group",
        "metadata": {"refund_id": str(refund.pk)},
    }
    refunds.refund_execute(refund_id=refund.pk)
    return refund


def test_refunds_of_a_paid_order_take_back_exactly_its_transfer(gw, settings):
    settings.REFUND_REVERSE_TRANSFER = settings.REFUND_APPLICATION_FEE = True
    to_bob, transfer = paid_checkout(gw)

    shares = [
        TransferReversal.objects.get(refund=refund_succeeds(gw, to_bob, amount)).amount
        for amount in (1_001, 999, 1_000)
    ]

    # The charge made no transfer: Stripe is asked for the refund alone.
    assert {c.kwargs["reverse_transfer"] for c in gw.refund_create.call_args_list} == {False}
    assert {c.kwargs["refund_application_fee"] for c in gw.refund_create.call_args_list} == {False}
    # round_half_up(R × 2,670 / 3,000), cumulative: 891, then 1,780 − 891, then the rest.
    assert shares == [891, 889, 890]
    assert sum(shares) == transfer.amount == 2_670
    assert Order.objects.get(pk=to_bob.order_id).status == "refunded"


def test_without_the_fee_refund_the_contractor_bears_the_refund_up_to_the_transfer(gw):
    to_bob, transfer = paid_checkout(gw)

    first = refund_succeeds(gw, to_bob, 2_000, refund_application_fee=False)
    second = refund_succeeds(gw, to_bob, 1_000, refund_application_fee=False)

    assert TransferReversal.objects.get(refund=first).amount == 2_000
    assert TransferReversal.objects.get(refund=second).amount == 670  # all that is left


def test_a_reversal_waits_for_its_transfer_and_for_the_contractors_balance(gw):
    to_bob, transfer = paid_checkout(gw)
    Transfer.objects.filter(pk=transfer.pk).update(status="pending", stripe_transfer_id=None)
    reversal = TransferReversal.objects.get(refund=refund_succeeds(gw, to_bob, 3_000))

    with pytest.raises(NotYet):
        transfers.reversal_execute(reversal_id=reversal.pk)
    gw.transfer_reversal_create.assert_not_called()

    Transfer.objects.filter(pk=transfer.pk).update(status="succeeded", stripe_transfer_id="tr_bob")
    gw.transfer_reversal_create.side_effect = gateway.GatewayRejected(
        "balance", code="balance_insufficient", status=400
    )
    with pytest.raises(NotYet):
        transfers.reversal_execute(reversal_id=reversal.pk)
    gw.transfer_reversal_create.side_effect = None
    gw.transfer_reversal_create.return_value = {"id": "trr_1"}
    transfers.reversal_execute(reversal_id=reversal.pk)

    keys = [c.kwargs["idempotency_key"] for c in gw.transfer_reversal_create.call_args_list]
    assert keys == [f"reversal-{reversal.pk}", f"reversal-{reversal.pk}/after-1"]
    reversal.refresh_from_db()
    assert (reversal.status, reversal.stripe_reversal_id, reversal.amount) == (
        "succeeded",
        "trr_1",
        2_670,
    )


def test_the_return_page_reads_a_checkouts_intent_once(gw):
    rows = checkout(intent="pi_group")
    stripe_reads.sync_allow([row.pk for row in rows])
    gw.payment_intent_retrieve.return_value = snapshot(rows, "requires_capture")

    for row in rows:
        intents.payment_sync(payment_id=row.pk)

    assert gw.payment_intent_retrieve.call_count == 1
    assert {p.status for p in fresh(*rows)} == {"authorized"}
