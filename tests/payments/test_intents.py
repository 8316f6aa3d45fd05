"""PaymentIntent services with the gateway patched: exact calls, convergent states."""

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.models import Notification
from payments import gateway
from payments.models import Payment
from payments.services import intents
from shop.models import Order
from tests.factories import PaymentFactory, payment_intent_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def gw(monkeypatch):
    fake = mock.MagicMock(wraps=None)
    for name in [
        "customer_create",
        "payment_intent_create",
        "payment_intent_retrieve",
        "payment_intent_capture",
        "payment_intent_cancel",
    ]:
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    return fake


def test_intent_created_once_with_exact_arguments(gw):
    payment = PaymentFactory(
        stripe_payment_intent_id=None,
        order__amount=17900,
        order__fee_amount=1820,
        amount=17900,
        application_fee_amount=1820,
        destination_account="acct_alice",
    )
    order = payment.order
    gw.customer_create.return_value = {"id": "cus_new"}
    gw.payment_intent_create.return_value = {"id": "pi_new", "client_secret": "pi_new_secret"}

    result = intents.payment_intent_ensure(payment_id=payment.pk)

    assert result["client_secret"] == "pi_new_secret"
    gw.customer_create.assert_called_once_with(
        email=order.buyer.email,
        name=order.buyer.profile.name,
        user_id=order.buyer_id,
        idempotency_key=f"user-{order.buyer_id}-customer",
    )
    gw.payment_intent_create.assert_called_once_with(
        amount=17900,
        currency="usd",
        customer="cus_new",
        destination="acct_alice",
        application_fee_amount=1820,
        order_id=order.pk,
        order_public_id=str(order.public_id),
        idempotency_key=f"payment-{payment.pk}-intent",
    )
    payment.refresh_from_db()
    order.buyer.profile.refresh_from_db()
    assert payment.stripe_payment_intent_id == "pi_new"
    assert order.buyer.profile.stripe_id == "cus_new"

    gw.payment_intent_retrieve.return_value = {"id": "pi_new", "client_secret": "pi_new_secret"}
    intents.payment_intent_ensure(payment_id=payment.pk)
    assert gw.payment_intent_create.call_count == 1
    assert gw.customer_create.call_count == 1
    gw.payment_intent_retrieve.assert_called_once_with(payment_intent="pi_new")


def _checkout_payments(count):
    first = PaymentFactory(stripe_payment_intent_id=None)
    others = [
        PaymentFactory(stripe_payment_intent_id=None, order__buyer=first.order.buyer)
        for _ in range(count - 1)
    ]
    return [first, *others]


def test_a_checkouts_intents_are_created_side_by_side_in_order(gw):
    payments = _checkout_payments(4)
    gw.customer_create.return_value = {"id": "cus_one"}
    # Every call waits until all four have started: made one after another, the first
    # would wait in vain and the barrier would break.
    started = threading.Barrier(4, timeout=10)

    def create(**kwargs):
        started.wait()
        return {"id": f"pi_for_{kwargs['order_id']}", "client_secret": "s"}

    gw.payment_intent_create.side_effect = create

    made = intents.payment_intents_ensure(payment_ids=[p.pk for p in reversed(payments)])

    assert [m["id"] for m in made] == [f"pi_for_{p.order_id}" for p in reversed(payments)]
    assert gw.customer_create.call_count == 1  # one buyer, one Customer
    stored = dict(Payment.objects.values_list("pk", "stripe_payment_intent_id"))
    assert stored == {p.pk: f"pi_for_{p.order_id}" for p in payments}


def test_when_one_intent_fails_the_others_are_kept_and_the_error_raised(gw):
    payments = _checkout_payments(3)
    gw.customer_create.return_value = {"id": "cus_one"}

    def create(**kwargs):
        if kwargs["order_id"] == payments[1].order_id:
            raise gateway.GatewayUnavailable("down")
        return {"id": f"pi_for_{kwargs['order_id']}", "client_secret": "s"}

    gw.payment_intent_create.side_effect = create

    with pytest.raises(gateway.GatewayUnavailable):
        intents.payment_intents_ensure(payment_ids=[p.pk for p in payments])

    stored = dict(Payment.objects.values_list("pk", "stripe_payment_intent_id"))
    assert stored == {
        payments[0].pk: f"pi_for_{payments[0].order_id}",
        payments[1].pk: None,
        payments[2].pk: f"pi_for_{payments[2].order_id}",
    }


def test_unreachable_stripe_leaves_the_order_waiting_and_a_retry_succeeds(gw):
    payment = PaymentFactory(stripe_payment_intent_id=None)
    gw.customer_create.return_value = {"id": "cus_1"}
    gw.payment_intent_create.side_effect = gateway.GatewayUnavailable("down")

    with pytest.raises(gateway.GatewayUnavailable):
        intents.payment_intent_ensure(payment_id=payment.pk)
    payment.refresh_from_db()
    assert payment.stripe_payment_intent_id is None
    assert payment.order.status == Order.Status.PENDING

    gw.payment_intent_create.side_effect = None
    gw.payment_intent_create.return_value = {"id": "pi_late", "client_secret": "s"}
    intents.payment_intent_ensure(payment_id=payment.pk)
    keys = {c.kwargs["idempotency_key"] for c in gw.payment_intent_create.call_args_list}
    assert keys == {f"payment-{payment.pk}-intent"}  # the retry reuses the key
    payment.refresh_from_db()
    assert payment.stripe_payment_intent_id == "pi_late"


def test_authorised_snapshot_then_late_and_duplicate_events():
    payment = PaymentFactory()
    authorised = payment_intent_snapshot(payment, "requires_capture")

    intents.payment_apply_intent(payment_intent_snapshot(payment, "requires_action"))
    intents.payment_apply_intent(authorised)
    intents.payment_apply_intent(authorised)  # duplicate delivery
    intents.payment_apply_intent(payment_intent_snapshot(payment, "requires_action"))  # late
    intents.payment_apply_intent(
        payment_intent_snapshot(
            payment, "requires_payment_method", last_payment_error={"code": "card_declined"}
        )
    )  # late decline from an earlier attempt

    payment.refresh_from_db()
    assert payment.status == Payment.Status.AUTHORIZED
    assert payment.amount_authorized == payment.amount
    assert payment.capture_before > timezone.now() + timedelta(days=6)
    assert payment.order.status == Order.Status.AUTHORIZED


def test_decline_marks_the_order_failed_and_a_new_card_can_still_pay():
    payment = PaymentFactory()
    declined = payment_intent_snapshot(
        payment,
        "requires_payment_method",
        last_payment_error={"code": "card_declined", "decline_code": "insufficient_funds"},
    )
    intents.payment_apply_intent(declined)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert payment.last_error_message == "Your card has insufficient funds."
    assert payment.order.status == Order.Status.FAILED

    intents.payment_apply_intent(
        payment_intent_snapshot(payment, "requires_capture", amount_capturable=10)
    )
    payment.refresh_from_db()
    assert payment.order.status == Order.Status.AUTHORIZED
    assert payment.last_error_message == ""


def test_unknown_intent_is_ignored():
    assert intents.payment_apply_intent({"id": "pi_other", "status": "succeeded"}) is None


def test_messages_wait_for_the_commit_and_a_rollback_sends_none(
    django_capture_on_commit_callbacks,
):
    payment = PaymentFactory()
    declined = payment_intent_snapshot(
        payment, "requires_payment_method", last_payment_error={"code": "card_declined"}
    )

    def apply_then_fail():
        with transaction.atomic():
            intents.payment_apply_intent(declined)
            raise RuntimeError("the caller's transaction fails")

    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks() as callbacks:
        apply_then_fail()
    assert callbacks == []  # rolled back: nothing to tell

    with django_capture_on_commit_callbacks() as callbacks:
        intents.payment_apply_intent(payment_intent_snapshot(payment, "requires_capture"))
        # Locks held, transaction open: nobody has been told yet.
        assert not Notification.objects.exists()
    assert len(callbacks) == 1  # the order's new status, for the buyer and the contractor
    callbacks[0]()
    assert Notification.objects.filter(kind__in=["order_receipt", "order_new"]).count() == 2


def authorised_payment():
    payment = PaymentFactory(
        status=Payment.Status.AUTHORIZED,
        amount_authorized=2500,
        authorized_at=timezone.now(),
    )
    Order.objects.filter(pk=payment.order_id).update(status=Order.Status.FULFILLED)
    return payment


def test_capture_uses_the_payment_key_and_records_the_capture(gw):
    payment = authorised_payment()
    gw.payment_intent_capture.return_value = payment_intent_snapshot(
        payment, "succeeded", amount_received=2500, latest_charge="ch_1"
    )

    intents.payment_capture(payment_id=payment.pk)

    gw.payment_intent_capture.assert_called_once_with(
        payment_intent=payment.stripe_payment_intent_id,
        idempotency_key=f"payment-{payment.pk}-capture",
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED
    assert (payment.amount_captured, payment.stripe_charge_id) == (2500, "ch_1")
    assert payment.order.status == Order.Status.CAPTURED
    intents.payment_capture(payment_id=payment.pk)  # a retried task does nothing
    assert gw.payment_intent_capture.call_count == 1


def test_capture_of_a_canceled_authorisation_flags_the_order(gw):
    payment = authorised_payment()
    gw.payment_intent_capture.side_effect = gateway.GatewayRejected(
        "This PaymentIntent could not be captured because it has a status of canceled.",
        code="payment_intent_unexpected_state",
        status=400,
    )
    gw.payment_intent_retrieve.return_value = payment_intent_snapshot(
        payment, "canceled", cancellation_reason="automatic"
    )

    intents.payment_capture(payment_id=payment.pk)

    payment.refresh_from_db()
    order = payment.order
    assert payment.status == Payment.Status.CANCELED
    assert payment.last_error_code == "payment_intent_unexpected_state"
    assert order.status == Order.Status.EXPIRED
    assert order.flagged
    assert "Capture failed" in order.flag_reason


def test_expiry_cancels_only_stale_authorisations(gw, settings):
    settings.AUTHORIZATION_TTL_HOURS = 144
    stale = authorised_payment()
    Payment.objects.filter(pk=stale.pk).update(authorized_at=timezone.now() - timedelta(hours=145))
    Order.objects.filter(pk=stale.order_id).update(status=Order.Status.AUTHORIZED)
    fresh = authorised_payment()
    gw.payment_intent_cancel.return_value = payment_intent_snapshot(
        stale, "canceled", cancellation_reason="abandoned"
    )

    assert intents.authorizations_expire() == 1
    stale.refresh_from_db()
    assert (stale.action, stale.action_reason) == ("cancel", "abandoned")
    assert intents.authorizations_expire() == 0  # asked already: not asked twice
    gw.payment_intent_cancel.assert_not_called()  # the worker does it

    intents.payment_cancel_requested(payment_id=stale.pk)

    gw.payment_intent_cancel.assert_called_once_with(
        payment_intent=stale.stripe_payment_intent_id,
        reason="abandoned",
        idempotency_key=f"payment-{stale.pk}-cancel",
    )
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.order.status == Order.Status.EXPIRED
    assert (stale.action, stale.due_at) == ("", None)  # done: nothing left to hand out
    assert fresh.status == Payment.Status.AUTHORIZED


@pytest.mark.parametrize(
    ("reason", "order_status"),
    [
        ("expired", Order.Status.EXPIRED),  # the current API's own word for it
        ("automatic", Order.Status.EXPIRED),
        ("abandoned", Order.Status.EXPIRED),
        ("requested_by_customer", Order.Status.CANCELED),
        ("fraudulent", Order.Status.CANCELED),
    ],
)
def test_a_canceled_intent_expires_or_cancels_the_order_by_its_reason(reason, order_status):
    payment = authorised_payment()

    intents.payment_apply_intent(
        payment_intent_snapshot(payment, "canceled", cancellation_reason=reason)
    )

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    assert payment.order.status == order_status
