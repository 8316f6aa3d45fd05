"""The database is the outbox (core/outbox.py, payments/dispatch.py): work that must
reach Stripe survives a broker that refuses messages, a lost message, a dead worker
and a passing failure, and is handed out again by the dispatcher."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from core import outbox
from payments import dispatch, gateway, tasks
from payments.models import ContractorDebit, Payment, Refund, StripeEvent
from payments.services import refunds
from shop.models import Order
from tests.factories import OrderFactory, PaymentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def broker_down(*args, **kwargs):
    raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def authorised_order():
    order = OrderFactory(status=Order.Status.AUTHORIZED)
    payment = PaymentFactory(order=order, status=Payment.Status.AUTHORIZED)
    return order, payment


def captured_payment(amount=5000):
    order = OrderFactory(status=Order.Status.CAPTURED, amount=amount)
    return PaymentFactory(
        order=order, status=Payment.Status.CAPTURED, amount=amount, amount_captured=amount
    )


def make_due(model, pk):
    model.objects.filter(pk=pk).update(due_at=timezone.now() - timedelta(seconds=1))


# --- The fast path never fails the user's request -------------------------------------


def test_fulfilling_with_the_broker_down_still_asks_for_the_capture(client):
    order, payment = authorised_order()
    client.force_login(order.seller)
    with mock.patch.object(tasks.payment_capture_task, "delay", side_effect=broker_down):
        response = client.post(reverse("shop:sales_fulfil", args=[order.public_id]))

    assert response.status_code == 302  # "accepted", not a 500
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert payment.action == Payment.Action.CAPTURE
    assert payment.due_at > timezone.now()  # the dispatcher's, after the lease
    assert payment.dispatches == 1


def test_a_refund_requested_with_the_broker_down_is_recorded_for_the_dispatcher():
    payment = captured_payment()
    with mock.patch.object(tasks.refund_execute_task, "delay", side_effect=broker_down):
        refund = refunds.refund_request(payment_id=payment.pk, amount=2000)

    refund.refresh_from_db()
    assert refund.status == Refund.Status.REQUESTED
    assert refund.due_at is not None
    assert refund.dispatches == 1


def test_a_refused_publish_is_counted():
    from core.metrics import OUTBOX_ENQUEUE_FAILED

    counter = OUTBOX_ENQUEUE_FAILED.labels(tasks.refund_execute_task.name)
    before = counter._value.get()
    with mock.patch.object(tasks.refund_execute_task, "delay", side_effect=broker_down):
        assert outbox.enqueue(tasks.refund_execute_task, 1) is False
    assert counter._value.get() == before + 1


# --- The dispatcher -----------------------------------------------------------------


def test_the_dispatcher_hands_out_only_overdue_work_still_to_do():
    _, waiting = authorised_order()  # authorised, nobody asked for a capture
    _, asked = authorised_order()
    Payment.objects.filter(pk=asked.pk).update(action="capture")
    make_due(Payment, asked.pk)
    _, not_yet = authorised_order()
    Payment.objects.filter(pk=not_yet.pk).update(
        action="capture", due_at=timezone.now() + timedelta(seconds=10)
    )
    done = captured_payment()
    Payment.objects.filter(pk=done.pk).update(action="capture")
    make_due(Payment, done.pk)

    with mock.patch.object(tasks.payment_capture_task, "delay") as delay:
        handed = dispatch.dispatch_overdue()

    delay.assert_called_once_with(asked.pk)
    assert handed["captures"] == 1
    asked.refresh_from_db()
    lease = (asked.due_at - timezone.now()).total_seconds()
    assert 14 < lease <= 15  # OUTBOX_LEASE_SECONDS: handed out again only if still here
    assert asked.dispatches == 1


@pytest.mark.parametrize(
    ("kind", "make", "task"),
    [
        (
            "refunds",
            lambda: refunds.refund_request(payment_id=captured_payment().pk, amount=1),
            "refund_execute_task",
        ),
        ("cancellations", lambda: _cancel_asked(), "payment_cancel_task"),
        ("webhook events", lambda: _event_received(), "event_process_task"),
        ("debits", lambda: _debit_pending(), "debit_execute_task"),
    ],
)
def test_every_kind_of_work_whose_message_was_lost_is_handed_out_again(kind, make, task):
    with mock.patch.object(getattr(tasks, task), "delay"):
        row = make()  # its first message "lost"
    make_due(type(row), row.pk)

    with mock.patch.object(getattr(tasks, task), "delay") as delay:
        handed = dispatch.dispatch_overdue()

    assert handed[kind] == 1
    delay.assert_called_once_with(row.pk)


def _cancel_asked():
    from payments.services.intents import payment_cancel_request

    _, payment = authorised_order()
    assert payment_cancel_request(payment_id=payment.pk)
    return payment


def _event_received():
    from payments.services.events import event_store

    event_id, _ = event_store(
        event={"id": "evt_lost", "type": "payment_intent.succeeded", "data": {"object": {}}},
        endpoint="platform",
    )
    return StripeEvent.objects.get(pk=event_id)


def _debit_pending():
    order = OrderFactory()
    return ContractorDebit.objects.create(
        contractor=order.seller,
        amount=100,
        currency="usd",
        reason="x",
        method="account_debit",
        **outbox.first_dispatch(),
    )


def test_a_row_that_keeps_coming_back_waits_longer_and_is_given_up_on():
    _, payment = authorised_order()
    Payment.objects.filter(pk=payment.pk).update(action="capture", dispatches=6)
    make_due(Payment, payment.pk)
    with mock.patch.object(tasks.payment_capture_task, "delay"):
        dispatch.dispatch_overdue()
    payment.refresh_from_db()
    assert (payment.due_at - timezone.now()).total_seconds() > 40  # 2**6 s, ± 20 %

    Payment.objects.filter(pk=payment.pk).update(dispatches=outbox.MAX_DISPATCHES)
    make_due(Payment, payment.pk)
    with mock.patch.object(tasks.payment_capture_task, "delay") as delay:
        dispatch.dispatch_overdue()
    delay.assert_not_called()
    assert dispatch.stranded()["captures"] == 1

    assert outbox.retry_now(Payment, [payment.pk]) == 1  # staff: "retry now"
    with mock.patch.object(tasks.payment_capture_task, "delay") as delay:
        dispatch.dispatch_overdue()
    delay.assert_called_once_with(payment.pk)


# --- Tasks: a passing failure is a later try, not a lost operation --------------------


@pytest.mark.parametrize(
    "failure", [gateway.GatewayUnavailable("Stripe 500"), OperationalError("server closed")]
)
def test_a_capture_that_fails_for_a_passing_reason_is_due_again_after_a_backoff(failure):
    _, payment = authorised_order()
    Payment.objects.filter(pk=payment.pk).update(action="capture", dispatches=3)

    with mock.patch("payments.services.intents.payment_capture", side_effect=failure):
        assert tasks.payment_capture_task(payment.pk) == "retrying"

    payment.refresh_from_db()
    wait = (payment.due_at - timezone.now()).total_seconds()
    assert 6 <= wait <= 9.7  # 2**3 s ± 20 %
    assert payment.action == Payment.Action.CAPTURE  # still to do


def test_a_capture_stripe_refuses_is_no_longer_to_do(monkeypatch):
    order, payment = authorised_order()
    Payment.objects.filter(pk=payment.pk).update(action="capture")
    order_status = {"id": payment.stripe_payment_intent_id, "status": "canceled"}
    monkeypatch.setattr(
        gateway,
        "payment_intent_capture",
        mock.Mock(
            side_effect=gateway.GatewayRejected("expired", code="payment_intent_unexpected_state")
        ),
    )
    monkeypatch.setattr(gateway, "payment_intent_retrieve", mock.Mock(return_value=order_status))
    with mock.patch("payments.services.intents.payment_apply_intent"):
        tasks.payment_capture_task(payment.pk)

    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.action, payment.due_at) == ("", None)
    assert order.flagged


def test_two_runs_of_one_operation_never_overlap():
    """On PostgreSQL the second run sees the first one's advisory lock (another
    connection stands for another worker); SQLite has one worker and no such lock."""
    from django.db import connections

    with outbox.exclusive("capture", 42) as first:
        assert first
        if connection.vendor == "postgresql":
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", _key("capture", 42))
                    assert cursor.fetchone()[0] is False
            finally:
                other.close()
    with outbox.exclusive("capture", 42) as again:
        assert again  # released


def _key(name, pk):
    import zlib

    return (zlib.crc32(name.encode()) & 0x7FFFFFFF, pk)


def test_a_stored_event_is_due_a_lease_after_it_arrived():
    event = _event_received()
    wait = (event.due_at - timezone.now()).total_seconds()
    assert 14 < wait <= 15
    assert event.dispatches == 1


def test_a_capture_a_webhook_reports_leaves_nothing_to_hand_out():
    """The task that captured died before recording it; the webhook did it instead."""
    from payments.services.intents import payment_apply_intent

    _, payment = authorised_order()
    Payment.objects.filter(pk=payment.pk).update(action="capture", dispatches=1)
    payment_apply_intent(
        {
            "id": payment.stripe_payment_intent_id,
            "object": "payment_intent",
            "status": "succeeded",
            "amount": payment.amount,
            "amount_received": payment.amount,
            "amount_capturable": 0,
            "currency": payment.currency,
            "application_fee_amount": payment.application_fee_amount,
            "latest_charge": "ch_webhook",
            "metadata": {},
        }
    )

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED
    assert (payment.action, payment.due_at) == ("", None)
