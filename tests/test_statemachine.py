"""Every status moves only along its model's allowed-transition table, under a lock."""

import logging

import pytest
from django.db import transaction
from django.db.models import F

from core.statemachine import (
    InvalidTransition,
    allowed_from,
    transition,
    transition_locked,
    transition_update,
)
from payments.models import ContractorDebit, Payment, Refund, StripeEvent
from payments.services import refunds
from payments.services.events import event_process
from shop.models import Order
from shop.services import order_transition
from tests.factories import OrderFactory, PaymentFactory, RefundFactory

pytestmark = pytest.mark.django_db

ALL_TABLES = [Order, Payment, Refund, StripeEvent, ContractorDebit]


@pytest.mark.parametrize("model", ALL_TABLES)
def test_tables_cover_every_status_and_only_known_ones(model):
    statuses = set(model.Status.values)
    assert set(model.TRANSITIONS) == statuses
    for targets in model.TRANSITIONS.values():
        assert targets <= statuses


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Order.Status.PENDING, Order.Status.REFUNDED),
        (Order.Status.PENDING, Order.Status.FULFILLED),
        (Order.Status.CAPTURED, Order.Status.AUTHORIZED),
        (Order.Status.CANCELED, Order.Status.AUTHORIZED),
        (Order.Status.REFUNDED, Order.Status.PARTIALLY_REFUNDED),
    ],
)
def test_illegal_order_transition_is_refused_and_nothing_changes(start, target):
    order = OrderFactory(status=start)
    expected = f"from '{start}' to '{target}'"
    with pytest.raises(InvalidTransition, match=expected), transaction.atomic():
        order_transition(order_id=order.pk, status=target)
    order.refresh_from_db()
    assert order.status == start


def test_legal_order_path_and_repeated_event_is_a_no_op():
    order = OrderFactory()
    for status in ["authorized", "fulfilled", "captured", "partially_refunded", "refunded"]:
        with transaction.atomic():
            _, changed = order_transition(order_id=order.pk, status=status)
        assert changed
    with transaction.atomic():
        moved, changed = order_transition(order_id=order.pk, status="refunded")
    assert not changed
    assert moved.status == "refunded"


def test_late_event_never_moves_a_status_backwards():
    payment = PaymentFactory(status=Payment.Status.CAPTURED)
    with pytest.raises(InvalidTransition), transaction.atomic():
        transition(Payment, payment.pk, Payment.Status.AUTHORIZED)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED


def test_a_move_that_may_be_late_is_ignored_and_logged(caplog):
    payment = PaymentFactory(status=Payment.Status.CAPTURED)
    with caplog.at_level(logging.INFO, logger="core.statemachine"), transaction.atomic():
        moved, changed = transition(
            Payment,
            payment.pk,
            Payment.Status.AUTHORIZED,
            changes={"amount_authorized": 1},
            may_be_late=True,
        )
    assert not changed
    assert (moved.status, moved.amount_authorized) == (Payment.Status.CAPTURED, 0)
    payment.refresh_from_db()
    assert (payment.status, payment.amount_authorized) == (Payment.Status.CAPTURED, 0)
    assert f"Payment {payment.pk} stays 'captured': a move to 'authorized'" in caplog.text


def test_transition_saves_only_the_changed_fields():
    payment = PaymentFactory()
    # Another process changed a field we did not touch; our save must not overwrite it.
    Payment.objects.filter(pk=payment.pk).update(last_error_message="kept")
    with transaction.atomic():
        transition(
            Payment,
            payment.pk,
            Payment.Status.AUTHORIZED,
            changes={"amount_authorized": payment.amount},
        )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.AUTHORIZED
    assert payment.amount_authorized == payment.amount
    assert payment.last_error_message == "kept"


def test_a_locked_row_moves_in_place_and_a_move_to_the_same_values_saves_nothing():
    order = OrderFactory(status=Order.Status.CAPTURED)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        assert transition_locked(locked, Order.Status.PARTIALLY_REFUNDED)
        assert locked.status == Order.Status.PARTIALLY_REFUNDED
        saved_at = locked.updated_at
        # Allowed by the table, but nothing would change: no write.
        assert not transition_locked(locked, Order.Status.PARTIALLY_REFUNDED)
    order.refresh_from_db()
    assert (order.status, order.updated_at) == (Order.Status.PARTIALLY_REFUNDED, saved_at)


def test_a_new_decline_on_a_payment_awaiting_its_card_is_recorded():
    payment = PaymentFactory()
    with transaction.atomic():
        _, changed = transition(
            Payment, payment.pk, Payment.Status.PENDING, changes={"last_error_code": "expired"}
        )
    assert changed
    payment.refresh_from_db()
    assert (payment.status, payment.last_error_code) == (Payment.Status.PENDING, "expired")


def test_allowed_from_reads_the_table_backwards():
    assert allowed_from(StripeEvent, StripeEvent.Status.FAILED) == {
        StripeEvent.Status.RECEIVED,
        StripeEvent.Status.FAILED,
        StripeEvent.Status.PROCESSED,
    }
    assert allowed_from(Order, Order.Status.REFUNDED) == {
        Order.Status.CAPTURED,
        Order.Status.PARTIALLY_REFUNDED,
    }
    assert allowed_from(Payment, Payment.Status.PENDING) == {
        Payment.Status.PENDING,
        Payment.Status.REQUIRES_ACTION,
    }


def test_transition_update_moves_only_from_an_allowed_status():
    received = StripeEvent.objects.create(
        stripe_id="evt_r", type="x", endpoint="platform", payload={}
    )
    ignored = StripeEvent.objects.create(
        stripe_id="evt_i", type="x", endpoint="platform", payload={}, status="ignored"
    )
    changes = {"attempts": F("attempts") + 1}
    assert transition_update(StripeEvent, received.pk, StripeEvent.Status.FAILED, changes=changes)
    assert not transition_update(
        StripeEvent, ignored.pk, StripeEvent.Status.FAILED, changes=changes
    )
    received.refresh_from_db()
    ignored.refresh_from_db()
    assert (received.status, received.attempts) == (StripeEvent.Status.FAILED, 1)
    assert (ignored.status, ignored.attempts) == (StripeEvent.Status.IGNORED, 0)


def stripe_refund(refund, status):
    return {
        "id": f"re_{refund.pk}",
        "object": "refund",
        "amount": refund.amount,
        "currency": refund.currency,
        "status": status,
        "payment_intent": refund.payment.stripe_payment_intent_id,
        "metadata": {"refund_id": str(refund.pk)},
    }


def test_refund_debit_and_event_transitions():
    refund = RefundFactory(
        payment__status=Payment.Status.CAPTURED,
        payment__amount_authorized=2500,
        payment__amount_captured=2500,
    )
    refunds.refund_apply(stripe_refund(refund, "pending"))
    refunds.refund_apply(stripe_refund(refund, "succeeded"))
    refunds.refund_apply(stripe_refund(refund, "pending"))  # late: ignored
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    with pytest.raises(InvalidTransition), transaction.atomic():
        transition(Refund, refund.pk, Refund.Status.PENDING)

    event = StripeEvent.objects.create(
        stripe_id="evt_1", type="customer.created", endpoint="platform", payload={}
    )
    StripeEvent.objects.filter(pk=event.pk).update(status=StripeEvent.Status.FAILED)
    assert event_process(event_id=event.pk) == StripeEvent.Status.IGNORED  # failed → ignored
    assert event_process(event_id=event.pk, replay=True) == StripeEvent.Status.IGNORED
    event.refresh_from_db()
    assert (event.status, event.attempts) == (StripeEvent.Status.IGNORED, 2)

    debit = ContractorDebit.objects.create(
        contractor=refund.payment.order.seller,
        amount=100,
        currency="usd",
        reason="No-show",
        method=ContractorDebit.Method.ACCOUNT_DEBIT,
    )
    with transaction.atomic():
        transition(ContractorDebit, debit.pk, ContractorDebit.Status.FAILED)
    with pytest.raises(InvalidTransition), transaction.atomic():
        transition(ContractorDebit, debit.pk, ContractorDebit.Status.SUCCEEDED)


@pytest.mark.django_db(transaction=True)
def test_transition_outside_a_transaction_is_a_programming_error():
    order = OrderFactory()
    with pytest.raises(RuntimeError, match="transaction.atomic"):
        order_transition(order_id=order.pk, status=Order.Status.AUTHORIZED)
    with pytest.raises(RuntimeError, match="transaction.atomic"):
        transition_locked(order, Order.Status.AUTHORIZED)  # read without a lock
