"""`capture_before` per payment (issue #18, item 4).

Before: the deadline was read only from an expanded `latest_charge`, which no
webhook carries, so every payment was assumed to expire 7 days after its intent
was created, and the sandbox gave every card 7 days. Now the sandbox sets the
deadline per card brand and initiator as Stripe documents, the shop reads it from
the charge when an intent reaches `requires_capture`, stores it on the payment and
releases the authorisation before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import stripe
from django.db import transaction
from django.utils import timezone

from payments import gateway
from payments.models import Payment
from payments.services import intents
from stripe_sandbox.testing import SandboxHandle, run_sandbox
from tests.factories import PaymentFactory, payment_intent_snapshot

pytestmark = pytest.mark.sandbox

DAY = 24 * 3600


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxHandle]:
    with run_sandbox() as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server: SandboxHandle, settings) -> Iterator[SandboxHandle]:
    sandbox_server.reset()
    settings.STRIPE_API_BASE = sandbox_server.base_url
    settings.STRIPE_SECRET_KEY = sandbox_server.secret_key
    settings.STRIPE_IDEMPOTENCY_PREFIX = "capture-before"
    gateway.reset_client()
    yield sandbox_server
    gateway.reset_client()


def authorised(client: stripe.StripeClient, card: str, *, off_session: bool = False):
    params: dict = {
        "amount": 5000,
        "currency": "usd",
        "capture_method": "manual",
        "payment_method": card,
        "confirm": True,
    }
    if off_session:
        params["off_session"] = True
    intent = client.v1.payment_intents.create(params=params)
    assert intent.status == "requires_capture"
    return intent


def window_of(client: stripe.StripeClient, intent) -> int:
    charge = client.v1.charges.retrieve(intent.latest_charge)
    return charge.payment_method_details.card.capture_before - charge.created


@pytest.mark.parametrize(
    ("card", "off_session", "window"),
    [
        ("pm_card_visa", False, 7 * DAY),
        ("pm_card_mastercard", False, 7 * DAY),
        ("pm_card_amex", False, 7 * DAY),
        ("pm_card_discover", False, 7 * DAY),
        # Visa's merchant-initiated window: "5 days", exactly 4 days and 18 hours.
        ("pm_card_visa", True, 4 * DAY + 18 * 3600),
        ("pm_card_mastercard", True, 7 * DAY),
    ],
)
def test_the_sandbox_sets_the_deadline_by_brand_and_initiator(sandbox, card, off_session, window):
    client = sandbox.client()
    assert window_of(client, authorised(client, card, off_session=off_session)) == window


def test_an_automatic_capture_has_no_deadline(sandbox):
    client = sandbox.client()
    intent = client.v1.payment_intents.create(
        params={
            "amount": 5000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.payment_method_details.card.capture_before is None


@pytest.mark.django_db(transaction=True)  # as a worker runs it: no transaction open
def test_a_webhook_snapshot_stores_the_charges_own_deadline(sandbox):
    """The webhook's intent names its charge by id: the deadline comes from the
    charge (4 days 18 hours here), not from created + 7 days."""
    client = sandbox.client()
    intent = authorised(client, "pm_card_visa", off_session=True)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    payment = PaymentFactory(stripe_payment_intent_id=intent.id, amount=5000)
    snapshot = payment_intent_snapshot(payment, "requires_capture", latest_charge=charge.id)
    snapshot["created"] = intent.created

    intents.payment_apply_intent(snapshot)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.AUTHORIZED
    deadline = charge.payment_method_details.card.capture_before
    assert payment.capture_before == datetime.fromtimestamp(deadline, tz=UTC)
    assert payment.capture_before < datetime.fromtimestamp(intent.created, tz=UTC) + timedelta(
        days=5
    )
    requests = sandbox.control("GET", f"/_sandbox/requests?path=/v1/payment_intents/{intent.id}")
    assert any("expand[0]" in call["fields"] for call in requests["requests"])


@pytest.mark.django_db
def test_a_later_snapshot_without_the_charge_keeps_the_known_deadline(sandbox):
    """Inside a transaction Stripe is not called: the stored deadline stands rather
    than being replaced by the 7-day guess."""
    known = timezone.now() + timedelta(days=3)
    payment = PaymentFactory(status=Payment.Status.REQUIRES_ACTION, capture_before=known)
    snapshot = payment_intent_snapshot(payment, "requires_capture", latest_charge="ch_unseen")
    with transaction.atomic():
        intents.payment_apply_intent(snapshot)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.AUTHORIZED
    assert payment.capture_before == known


@pytest.mark.django_db(transaction=True)
def test_stripe_unreachable_falls_back_to_the_longest_hold(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    gateway.reset_client()
    try:
        payment = PaymentFactory()
        snapshot = payment_intent_snapshot(payment, "requires_capture", latest_charge="ch_1")
        intents.payment_apply_intent(snapshot)
    finally:
        gateway.reset_client()
    payment.refresh_from_db()
    expected = datetime.fromtimestamp(snapshot["created"], tz=UTC) + timedelta(days=7)
    assert payment.capture_before == expected


@pytest.mark.django_db
def test_expiry_releases_a_short_hold_before_its_own_deadline(
    settings, django_capture_on_commit_callbacks
):
    """Authorised an hour ago, so not old by AUTHORIZATION_TTL_HOURS, but its charge
    must be captured within the next 20 hours: released now, not after Stripe did."""
    settings.AUTHORIZATION_TTL_HOURS = 144
    now = timezone.now()
    short = PaymentFactory(
        status=Payment.Status.AUTHORIZED,
        authorized_at=now - timedelta(hours=1),
        capture_before=now + timedelta(hours=20),
    )
    long = PaymentFactory(
        status=Payment.Status.AUTHORIZED,
        authorized_at=now - timedelta(hours=1),
        capture_before=now + timedelta(days=6),
    )
    with django_capture_on_commit_callbacks():
        assert intents.authorizations_expire(now=now) == 1
    short.refresh_from_db()
    long.refresh_from_db()
    assert short.action == Payment.Action.CANCEL
    assert short.action_reason == "abandoned"
    assert long.action == ""
