"""Every status moves only along its model's allowed-transition table, under a lock."""

import pytest
from django.db import transaction

from core.statemachine import InvalidTransition
from payments.models import ContractorDebit, Payment, Refund, StripeEvent
from payments.services.transitions import (
    debit_transition,
    event_transition,
    payment_transition,
    refund_transition,
)
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
        payment_transition(payment_id=payment.pk, status=Payment.Status.AUTHORIZED)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED


def test_transition_saves_only_the_changed_fields():
    payment = PaymentFactory()
    # Another process changed a field we did not touch; our save must not overwrite it.
    Payment.objects.filter(pk=payment.pk).update(last_error_message="kept")
    with transaction.atomic():
        payment_transition(
            payment_id=payment.pk,
            status=Payment.Status.AUTHORIZED,
            changes={"amount_authorized": payment.amount},
        )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.AUTHORIZED
    assert payment.amount_authorized == payment.amount
    assert payment.last_error_message == "kept"


def test_refund_debit_and_event_transitions():
    refund = RefundFactory()
    with transaction.atomic():
        refund_transition(refund_id=refund.pk, status=Refund.Status.PENDING)
        refund_transition(refund_id=refund.pk, status=Refund.Status.SUCCEEDED)
    with pytest.raises(InvalidTransition), transaction.atomic():
        refund_transition(refund_id=refund.pk, status=Refund.Status.PENDING)

    event = StripeEvent.objects.create(
        stripe_id="evt_1", type="charge.refunded", endpoint="platform", payload={}
    )
    with transaction.atomic():
        event_transition(event_id=event.pk, status=StripeEvent.Status.FAILED)
        event_transition(event_id=event.pk, status=StripeEvent.Status.PROCESSED)
    debit = ContractorDebit.objects.create(
        contractor=refund.payment.order.seller,
        amount=100,
        currency="usd",
        reason="No-show",
        method=ContractorDebit.Method.ACCOUNT_DEBIT,
    )
    with transaction.atomic():
        debit_transition(debit_id=debit.pk, status=ContractorDebit.Status.FAILED)
    with pytest.raises(InvalidTransition), transaction.atomic():
        debit_transition(debit_id=debit.pk, status=ContractorDebit.Status.SUCCEEDED)


@pytest.mark.django_db(transaction=True)
def test_transition_outside_a_transaction_is_a_programming_error():
    order = OrderFactory()
    with pytest.raises(RuntimeError, match="transaction.atomic"):
        order_transition(order_id=order.pk, status=Order.Status.AUTHORIZED)
