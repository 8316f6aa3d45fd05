"""Webhook endpoints: verified, stored once, processed once, never backwards."""

import json
import random
import time
from unittest import mock

import pytest
from django.urls import reverse

from payments.models import Payment, StripeEvent
from payments.services.events import event_process
from shop.models import Order
from tests.factories import PaymentFactory, payment_intent_snapshot
from tests.payments.webhook_helpers import event, post_event, post_signed

pytestmark = pytest.mark.django_db

PLATFORM = reverse("payments:webhook_platform")
CONNECT = reverse("payments:webhook_connect")


@pytest.fixture
def secrets(settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_platform_test"
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_connect_test"
    return settings


def intent_event(payment, status, **fields):
    obj = payment_intent_snapshot(payment, status, **{"latest_charge": "ch_1", **fields})
    kind = {
        "requires_capture": "payment_intent.amount_capturable_updated",
        "succeeded": "payment_intent.succeeded",
        "canceled": "payment_intent.canceled",
        "requires_action": "payment_intent.requires_action",
    }.get(status, "payment_intent.payment_failed")
    return event(kind, obj)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_STRIPE_SIGNATURE": "t=1,v1=deadbeef"},
        {"HTTP_STRIPE_SIGNATURE": "garbage"},
    ],
)
def test_missing_or_bad_signature_is_400_and_stores_nothing(client, secrets, headers):
    response = client.post(
        PLATFORM, data=b'{"id": "evt_1"}', content_type="application/json", **headers
    )
    assert response.status_code == 400
    assert "signature" in response.json()["error"]
    assert not StripeEvent.objects.exists()


def test_signed_with_the_other_endpoints_secret_is_refused(client, secrets):
    body = event("account.updated", {"id": "acct_1", "object": "account"})
    assert post_event(client, PLATFORM, body, "whsec_connect_test").status_code == 400
    assert post_event(client, CONNECT, body, "whsec_platform_test").status_code == 400
    assert not StripeEvent.objects.exists()


def test_signature_older_than_300_seconds_is_refused(client, secrets):
    body = event("payment_intent.created", {"id": "pi_1", "object": "payment_intent"})
    old = int(time.time()) - 301
    assert post_event(client, PLATFORM, body, "whsec_platform_test", old).status_code == 400
    assert not StripeEvent.objects.exists()


def test_signed_but_not_json_is_400(client, secrets):
    response = post_signed(client, PLATFORM, b"not json", "whsec_platform_test")
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_signed_but_nested_thousands_deep_is_400_not_500(client, secrets):
    depth = 100_000
    payload = b'{"id": "evt_deep", "type": "x", "data": ' + b"[" * depth + b"]" * depth + b"}"

    response = post_signed(client, PLATFORM, payload, "whsec_platform_test")

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_the_stored_payload_is_the_event_as_sent(client, secrets):
    body = event("payout.paid", {"id": "po_1", "object": "payout", "description": "Café № 1"})
    payload = json.dumps(body, indent=2, ensure_ascii=False).encode()

    response = post_signed(client, PLATFORM, payload, "whsec_platform_test")

    assert response.status_code == 200
    stored = StripeEvent.objects.get()
    assert stored.payload == body
    assert (stored.stripe_id, stored.type, stored.endpoint) == (
        body["id"],
        "payout.paid",
        "platform",
    )
    assert (stored.status, stored.attempts, stored.last_error, stored.account) == (
        "received",
        0,
        "",
        "",
    )
    assert stored.received_at is not None
    assert stored.processed_at is None


def test_get_is_not_allowed(client):
    assert client.get(PLATFORM).status_code == 405


def test_same_event_three_times_is_stored_and_processed_once(
    client, secrets, celery_eager, django_capture_on_commit_callbacks
):
    payment = PaymentFactory()
    body = intent_event(payment, "requires_capture")

    answers = []
    with mock.patch("payments.webhooks.handlers.payment_apply_intent") as apply:
        for _ in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                response = post_event(client, PLATFORM, body, "whsec_platform_test")
            assert response.status_code == 200
            assert response["Content-Type"] == "application/json"
            answers.append(response.json())

    assert answers == [{"received": True, "duplicate": dup} for dup in (False, True, True)]

    assert apply.call_count == 1
    stored = StripeEvent.objects.get()
    assert stored.status == StripeEvent.Status.PROCESSED
    assert stored.attempts == 1
    assert stored.endpoint == "platform"


def test_connect_event_records_its_account(
    client, secrets, celery_eager, django_capture_on_commit_callbacks
):
    body = event("payout.paid", {"id": "po_1", "object": "payout"}, account="acct_9")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, CONNECT, body, "whsec_connect_test").status_code == 200
    stored = StripeEvent.objects.get()
    assert (stored.endpoint, stored.account) == ("connect", "acct_9")


def test_unknown_event_type_is_stored_and_marked_ignored(
    client, secrets, celery_eager, django_capture_on_commit_callbacks
):
    body = event("customer.tax_id.created", {"id": "txi_1"})
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, PLATFORM, body, "whsec_platform_test").status_code == 200
    assert StripeEvent.objects.get().status == StripeEvent.Status.IGNORED


def test_shuffled_stream_ends_in_the_right_states(
    client, secrets, celery_eager, django_capture_on_commit_callbacks
):
    captured = PaymentFactory()
    declined_then_paid = PaymentFactory()
    canceled = PaymentFactory()
    stream = [
        intent_event(captured, "requires_action"),
        intent_event(captured, "requires_capture"),
        intent_event(captured, "succeeded"),
        intent_event(
            declined_then_paid,
            "requires_payment_method",
            last_payment_error={"code": "card_declined"},
        ),
        intent_event(declined_then_paid, "requires_capture"),
        intent_event(canceled, "requires_capture"),
        intent_event(canceled, "canceled", cancellation_reason="requested_by_customer"),
    ]
    deliveries = stream * 2
    random.Random(4).shuffle(deliveries)

    for body in deliveries:
        with django_capture_on_commit_callbacks(execute=True):
            assert post_event(client, PLATFORM, body, "whsec_platform_test").status_code == 200

    assert StripeEvent.objects.count() == len(stream)
    states = {p.pk: (p.status, p.order.status) for p in Payment.objects.select_related("order")}
    assert states[captured.pk] == (Payment.Status.CAPTURED, Order.Status.CAPTURED)
    assert states[declined_then_paid.pk] == (Payment.Status.AUTHORIZED, Order.Status.AUTHORIZED)
    assert states[canceled.pk] == (Payment.Status.CANCELED, Order.Status.CANCELED)


def test_handler_failure_records_the_error_and_a_later_run_succeeds():
    payment = PaymentFactory()
    body = intent_event(payment, "requires_capture")
    stored = StripeEvent.objects.create(
        stripe_id=body["id"], type=body["type"], endpoint="platform", payload=body
    )
    with (
        mock.patch(
            "payments.webhooks.handlers.payment_apply_intent", side_effect=RuntimeError("db away")
        ),
        pytest.raises(RuntimeError),
    ):
        event_process(event_id=stored.pk)
    stored.refresh_from_db()
    assert (stored.status, stored.attempts) == (StripeEvent.Status.FAILED, 1)
    assert "db away" in stored.last_error

    assert event_process(event_id=stored.pk) == StripeEvent.Status.PROCESSED
    stored.refresh_from_db()
    assert stored.attempts == 2
    assert stored.processed_at is not None
    payment.refresh_from_db()
    assert payment.status == Payment.Status.AUTHORIZED


def test_dispute_flags_the_order(client, secrets, celery_eager, django_capture_on_commit_callbacks):
    payment = PaymentFactory(stripe_charge_id="ch_disputed")
    body = event(
        "charge.dispute.created",
        {"id": "dp_1", "object": "dispute", "charge": "ch_disputed", "reason": "fraudulent"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, PLATFORM, body, "whsec_platform_test")
    payment.order.refresh_from_db()
    assert payment.order.flagged
    assert "fraudulent" in payment.order.flag_reason


def test_finishing_an_event_follows_its_transition_table(caplog):
    from payments.services.events import _finish

    processed = StripeEvent.objects.create(
        stripe_id="evt_p", type="x", endpoint="platform", payload={}, status="processed"
    )
    ignored = StripeEvent.objects.create(
        stripe_id="evt_i", type="x", endpoint="platform", payload={}, status="ignored"
    )

    _finish(processed, StripeEvent.Status.FAILED, "replay failed")  # allowed
    _finish(ignored, StripeEvent.Status.FAILED, "no")  # IGNORED → FAILED is not

    processed.refresh_from_db()
    ignored.refresh_from_db()
    assert (processed.status, processed.attempts, processed.last_error) == (
        "failed",
        1,
        "replay failed",
    )
    assert (ignored.status, ignored.attempts, ignored.last_error) == ("ignored", 0, "")
    assert f"Event {ignored.pk}: not moved to failed" in caplog.text
