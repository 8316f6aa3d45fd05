"""Defects an audit of issue #18 found, each on the sandbox with the real gateway:

1. a checkout's capture reused its idempotency key with another amount once an order
   had left the checkout (Stripe: idempotency_error, the order flagged);
3. a dispute's evidence submission that got a 500 after it went through was sent
   again under a new key (Stripe refuses a second submission);
5. an authorisation past `capture_before` ends `expired` at the sandbox, and the
   shop's handlers still expire the order from it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.db import transaction

from payments import gateway
from payments.management.commands.stripe_setup import event_types
from payments.models import Payment, StripeEvent
from payments.services import groups, intents
from payments.services.events import event_process, event_store
from payments.webhooks.registry import PLATFORM
from shop.models import Order
from stripe_sandbox.testing import SandboxHandle, run_sandbox
from tests.factories import BuyerFactory, OrderFactory, PaymentFactory
from tests.sandbox.helpers import custom_account, destination_payment

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db]

PREFIX = "fidelity"


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxHandle]:
    with run_sandbox() as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server: SandboxHandle, settings) -> Iterator[SandboxHandle]:
    sandbox_server.reset()
    settings.STRIPE_API_BASE = sandbox_server.base_url
    settings.STRIPE_SECRET_KEY = sandbox_server.secret_key
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_IDEMPOTENCY_PREFIX = PREFIX
    gateway.reset_client()
    yield sandbox_server
    gateway.reset_client()


def fail(sandbox: SandboxHandle, path: str, kind: str) -> None:
    sandbox.control("POST", "/_sandbox/faults", {"method": "POST", "path": path, "kind": kind})


def posts(sandbox: SandboxHandle, path: str) -> list[tuple[str, int]]:
    """(idempotency key, status) of every POST to `path`, in order."""
    calls = sandbox.control("GET", f"/_sandbox/requests?path={path}")["requests"]
    return [
        (call["headers"].get("Idempotency-Key", ""), call["status"])
        for call in calls
        if call["method"] == "POST" and call["path"] == path
    ]


def fresh(*rows: Payment) -> list[Payment]:
    return [Payment.objects.get(pk=row.pk) for row in rows]


# --- 1. A checkout's capture: the amount is in the key --------------------------------


def authorised_checkout(sandbox: SandboxHandle) -> tuple[Payment, Payment, str]:
    """Alice's 90.00 and Bob's 30.00, authorised as one platform charge at the sandbox."""
    buyer, checkout_id = BuyerFactory(), uuid.uuid4()
    intent = sandbox.client().v1.payment_intents.create(
        params={
            "amount": 12_000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "transfer_group": str(checkout_id),
        }
    )
    rows = [
        PaymentFactory(
            order=OrderFactory(buyer=buyer, checkout_id=checkout_id, amount=amount, fee_amount=fee),
            stripe_payment_intent_id=intent.id,
            transfer_group=str(checkout_id),
            destination_account=f"acct_seller{n}",
        )
        for n, (amount, fee) in enumerate([(9_000, 930), (3_000, 330)])
    ]
    with transaction.atomic():
        intents.payment_apply_intent(gateway.payment_intent_retrieve(payment_intent=intent.id))
    alice, bob = fresh(*rows)
    assert (alice.status, bob.status) == ("authorized", "authorized")
    return alice, bob, intent.id


def ask_capture(row: Payment) -> bool:
    """The order fulfilled, or staff asked: its capture is asked (the task that would
    run it is left out: the test runs the capture itself)."""
    with transaction.atomic():
        return intents.payment_capture_request(payment_id=row.pk)


def test_a_checkout_captured_after_an_order_left_it_is_not_refused_for_its_key(sandbox):
    """Alice's fulfilment asks the capture of both orders; Stripe answers 500 and keeps
    it for the key. That capture is given up, Bob's order is canceled (it leaves the
    capture), and Alice's is captured again, now for 90.00 only. Before, the same key
    `payment-N-capture` went with the other amount: Stripe's idempotency_error, and
    Alice's order flagged "Capture failed"."""
    alice, bob, intent = authorised_checkout(sandbox)
    path = f"/v1/payment_intents/{intent}/capture"
    fail(sandbox, path, "500")
    assert ask_capture(alice)
    with pytest.raises(gateway.GatewayUnavailable):
        groups.group_capture(alice)
    Payment.objects.filter(pk=alice.pk).update(action="")  # staff gave up on it
    groups.group_cancel(Payment.objects.get(pk=bob.pk), "requested_by_customer")
    assert fresh(bob)[0].status == "canceled"

    assert ask_capture(alice)  # staff capture it again
    captured = groups.group_capture(Payment.objects.get(pk=alice.pk))

    assert captured.status == "captured"
    assert captured.amount_captured == 9_000
    order = Order.objects.get(pk=alice.order_id)
    assert (order.status, order.flagged) == ("captured", False)
    assert sandbox.client().v1.payment_intents.retrieve(intent).amount_received == 9_000
    lead = f"{PREFIX}:payment-{alice.pk}-capture"
    assert posts(sandbox, path) == [(f"{lead}-12000", 500), (f"{lead}-9000", 200)]


# --- 3. A dispute's evidence submitted before a 500 -----------------------------------


def disputed(sandbox: SandboxHandle) -> str:
    client = sandbox.client()
    account = custom_account(client)
    intent = destination_payment(client, account.id, 4_000, 400, card="pm_card_createDispute")
    return client.v1.disputes.list({"payment_intent": intent.id}).data[0].id


def test_a_submission_that_went_through_before_the_500_is_not_sent_again(sandbox):
    """Before: a 500 on a submission was taken for "nothing happened": the task's retry
    moved to a new key, and Stripe refused the second submission (the dispute is under
    review), so the action failed although the evidence had reached the bank."""
    dispute = disputed(sandbox)
    path = f"/v1/disputes/{dispute}"
    fail(sandbox, path, "500_after")
    evidence = {"product_description": "A bowl", "customer_email_address": "b@x.test"}

    first = gateway.dispute_update(
        dispute=dispute, evidence=evidence, submit=True, idempotency_key="dispute-action-7"
    )
    again = gateway.dispute_update(  # the task retried: its first answer was lost
        dispute=dispute, evidence=evidence, submit=True, idempotency_key="dispute-action-7"
    )

    assert first["status"] == again["status"] == "under_review"
    assert again["evidence_details"]["submission_count"] == 1
    key = f"{PREFIX}:dispute-action-7"
    assert posts(sandbox, path) == [(key, 500), (key, 500)]  # the stored 500, replayed


def test_a_submission_that_did_not_go_through_moves_to_the_next_key(sandbox):
    dispute = disputed(sandbox)
    path = f"/v1/disputes/{dispute}"
    fail(sandbox, path, "500")
    evidence = {"product_description": "A bowl"}

    with pytest.raises(gateway.GatewayUnavailable):
        gateway.dispute_update(
            dispute=dispute, evidence=evidence, submit=True, idempotency_key="dispute-action-8"
        )
    submitted = gateway.dispute_update(
        dispute=dispute, evidence=evidence, submit=True, idempotency_key="dispute-action-8"
    )

    assert submitted["status"] == "under_review"
    key = f"{PREFIX}:dispute-action-8"
    assert posts(sandbox, path) == [(key, 500), (key, 500), (f"{key}/retry-1", 200)]


# --- 5. An expired authorisation reaches the order ------------------------------------


def test_an_expired_authorisation_expires_the_order_through_the_webhook(sandbox):
    """The sandbox now ends it as Stripe does (reason `expired`, `charge.expired`); the
    handler of payment_intent.canceled, which stripe_setup subscribes to, expires the
    order. charge.expired has no handler and is not subscribed: nothing needs it."""
    client = sandbox.client()
    intent = client.v1.payment_intents.create(
        params={
            "amount": 4_000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    payment = PaymentFactory(
        order=OrderFactory(amount=4_000, fee_amount=430, status=Order.Status.AUTHORIZED),
        stripe_payment_intent_id=intent.id,
        status=Payment.Status.AUTHORIZED,
    )
    sandbox.control("POST", "/_sandbox/clock", {"advance": 8 * 24 * 3600})
    assert client.v1.payment_intents.retrieve(intent.id).cancellation_reason == "expired"

    events = [e.to_dict() for e in client.v1.events.list(params={"limit": 100}).data]
    sent = {e["type"] for e in events}
    assert {"charge.expired", "payment_intent.canceled"} <= sent
    assert "charge.refunded" not in sent
    subscribed = set(event_types(PLATFORM))
    assert "payment_intent.canceled" in subscribed
    assert "charge.expired" not in subscribed
    for stripe_event in events:
        if stripe_event["type"] in subscribed:
            row, _ = event_store(event=stripe_event, endpoint=StripeEvent.Endpoint.PLATFORM)
            event_process(event_id=row)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.EXPIRED


def test_a_dispute_closed_without_our_evidence_is_not_taken_for_our_submission(sandbox):
    """The submission's 500 was real (nothing written), and the dispute was decided
    meanwhile: the look-up must not say our evidence went through."""
    dispute = disputed(sandbox)
    path = f"/v1/disputes/{dispute}"
    fail(sandbox, path, "500")
    with pytest.raises(gateway.GatewayUnavailable):
        gateway.dispute_update(
            dispute=dispute,
            evidence={"product_description": "A bowl"},
            submit=True,
            idempotency_key="dispute-action-9",
        )
    sandbox.control("POST", f"/_sandbox/disputes/{dispute}/resolve", {"outcome": "lost"})

    with pytest.raises(gateway.GatewayRejected, match="closed"):
        gateway.dispute_update(
            dispute=dispute,
            evidence={"product_description": "A bowl"},
            submit=True,
            idempotency_key="dispute-action-9",
        )
