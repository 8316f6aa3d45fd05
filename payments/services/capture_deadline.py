"""When Stripe releases an authorisation, per payment, and reading it when it is set.

Stripe puts the deadline on the charge, `payment_method_details.card.capture_before`,
and it differs by card brand and by who started the payment (Stripe's "place a hold
on a payment method": 7 days for a customer-initiated online payment, less than 5
for a Visa merchant-initiated one). A PaymentIntent names its charge by id unless
the charge is expanded, and webhook payloads never expand it, so the deadline is
only known once the intent is re-read with `expand=["latest_charge"]`: done when an
intent reaches `requires_capture`, before any row is locked.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from payments import gateway

logger = logging.getLogger(__name__)

# What a card-not-present, customer-initiated hold lasts at most: the estimate used
# only while the charge's own deadline is unknown (Stripe unreachable).
AUTHORIZATION_LIFETIME = timedelta(days=7)


def charge_capture_before(intent: dict) -> datetime | None:
    """The deadline on the intent's expanded charge; None when not expanded."""
    charge = intent.get("latest_charge")
    if not isinstance(charge, dict):
        return None
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    deadline = card.get("capture_before")
    return datetime.fromtimestamp(deadline, tz=UTC) if deadline else None


def capture_before(intent: dict, stored: datetime | None) -> datetime:
    """The payment's deadline: the charge's, else the one already stored (a later
    unexpanded snapshot must not replace a known deadline with a guess), else the
    longest Stripe allows counted from the intent's creation."""
    return (
        charge_capture_before(intent)
        or stored
        or datetime.fromtimestamp(intent["created"], tz=UTC) + AUTHORIZATION_LIFETIME
    )


def intent_with_charge(intent: dict) -> dict:
    """The intent with its charge expanded when it is authorised and the snapshot
    does not carry the charge (a webhook's, a plain retrieve's).

    Never inside a transaction (Stripe is never called while rows are locked); then,
    or when Stripe does not answer, the snapshot as it is: the deadline already
    stored, or the estimate, stands until the next snapshot.
    """
    if intent.get("status") != "requires_capture" or charge_capture_before(intent):
        return intent
    if not intent.get("latest_charge") or transaction.get_connection().in_atomic_block:
        return intent
    try:
        expanded = gateway.payment_intent_retrieve(payment_intent=intent["id"], expand_charge=True)
    except gateway.GatewayError as exc:
        logger.warning("Capture deadline of %s not read: %s", intent["id"], exc)
        return intent
    if not isinstance(expanded, dict) or expanded.get("id") != intent["id"]:
        return intent
    return expanded


def expiry_margin() -> timedelta:
    """How long before Stripe's deadline we release an authorisation ourselves: what
    AUTHORIZATION_TTL_HOURS leaves of Stripe's longest hold (24 h by default), so a
    shorter hold (a Visa merchant-initiated one) is released as early before its end."""
    ttl = timedelta(hours=settings.AUTHORIZATION_TTL_HOURS)
    return max(AUTHORIZATION_LIFETIME - ttl, timedelta(hours=1))
