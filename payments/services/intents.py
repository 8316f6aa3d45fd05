"""PaymentIntents: create, follow, capture, cancel and expire buyers' authorisations.

Our Payment and Order follow the PaymentIntent through `payment_apply_intent`,
which both the webhook handlers and the buyer's return page call: whichever comes
first moves the status, the other finds nothing to do, and a late or duplicate
snapshot never moves a status backwards.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.statemachine import InvalidTransition, is_allowed
from notifications import events as notify
from payments import gateway
from payments.models import Payment
from shop.models import Order
from shop.services import order_transition

from . import stripe_reads
from .customers import buyer_customer_ensure
from .transitions import payment_transition

logger = logging.getLogger(__name__)

# At most this many Stripe calls at once for one checkout (Stripe's test mode allows 25/s).
PARALLEL_STRIPE_CALLS = 5
# Stripe holds a card authorisation for 7 days.
AUTHORIZATION_LIFETIME = timedelta(days=7)
# Cancellation reasons that mean "nobody captured it in time", not "someone canceled".
EXPIRY_REASONS = {"abandoned", "automatic"}


def payment_intent_ensure(*, payment_id: int) -> dict:
    """The payment's PaymentIntent, creating it at Stripe the first time.

    The idempotency key comes from our Payment row, so a retry after a network
    failure returns the intent Stripe already made instead of a second one.
    """
    return payment_intents_ensure(payment_ids=[payment_id])[0]


def payment_intents_ensure(*, payment_ids: list[int]) -> list[dict]:
    """`payment_intent_ensure` for several payments (one checkout), in their order.

    The Stripe calls are made side by side: a cart from five contractors used to wait
    for five PaymentIntents one after another (3.4 s with Stripe at 300 ms). Only the
    calls leave this thread; the database is read before and written after, here.
    When a call fails, the intents that were made are still recorded, then the first
    error is raised.
    """
    found = Payment.objects.select_related("order").in_bulk(payment_ids)
    payments = [found[pk] for pk in payment_ids]
    buyers = {p.order.buyer_id for p in payments if not p.stripe_payment_intent_id}
    customers = {buyer_id: buyer_customer_ensure(user_id=buyer_id) for buyer_id in buyers}

    def fetch(payment: Payment) -> dict | Exception:
        try:
            if payment.stripe_payment_intent_id:
                # Reloads of the pay page reuse a read of a few seconds ago.
                intent_id = payment.stripe_payment_intent_id
                return stripe_reads.intent_read(
                    payment.pk, lambda: gateway.payment_intent_retrieve(payment_intent=intent_id)
                )
            return _intent_create(payment, customers[payment.order.buyer_id])
        except Exception as exc:  # re-raised below, once the others are recorded
            return exc

    if len(payments) == 1:
        results = [fetch(payments[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(len(payments), PARALLEL_STRIPE_CALLS)) as pool:
            results = list(pool.map(fetch, payments))
    for payment, result in zip(payments, results, strict=True):
        if isinstance(result, dict) and not payment.stripe_payment_intent_id:
            _intent_record(payment, result)
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results  # type: ignore[return-value]  # no Exception is left in it


def _intent_create(payment: Payment, customer: str) -> dict:
    order = payment.order
    return gateway.payment_intent_create(
        amount=payment.amount,
        currency=payment.currency,
        customer=customer,
        destination=payment.destination_account,
        application_fee_amount=payment.application_fee_amount,
        order_id=order.pk,
        order_public_id=str(order.public_id),
        idempotency_key=f"payment-{payment.pk}-intent",
    )


def _intent_record(payment: Payment, intent: dict) -> None:
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if not locked.stripe_payment_intent_id:
            locked.stripe_payment_intent_id = intent["id"]
            locked.save(update_fields=["stripe_payment_intent_id", "updated_at"])


def _capture_before(intent: dict) -> datetime:
    charge = intent.get("latest_charge")
    if isinstance(charge, dict):
        card = (charge.get("payment_method_details") or {}).get("card") or {}
        if card.get("capture_before"):
            return datetime.fromtimestamp(card["capture_before"], tz=UTC)
    return datetime.fromtimestamp(intent["created"], tz=UTC) + AUTHORIZATION_LIFETIME


def _charge_id(intent: dict) -> str:
    charge = intent.get("latest_charge")
    if isinstance(charge, dict):
        return charge["id"]
    return charge or ""


def _targets(intent: dict) -> tuple[str | None, dict, str | None]:
    """(payment status, payment field changes, order status) a snapshot asks for."""
    status = intent["status"]
    if status == "requires_payment_method" and intent.get("last_payment_error"):
        error = intent["last_payment_error"]
        code = error.get("decline_code") or error.get("code") or "card_declined"
        changes = {
            "last_error_code": code,
            "last_error_message": gateway.decline_message(
                error.get("code") or "", error.get("decline_code") or ""
            ),
        }
        return Payment.Status.PENDING, changes, Order.Status.FAILED
    if status == "requires_action":
        return Payment.Status.REQUIRES_ACTION, {}, None
    if status == "requires_capture":
        changes = {
            "amount_authorized": intent["amount_capturable"],
            "authorized_at": timezone.now(),
            "capture_before": _capture_before(intent),
            "last_error_code": "",
            "last_error_message": "",
        }
        if _charge_id(intent):
            # Known now, so a transfer.created that beats the capture's event still matches.
            changes["stripe_charge_id"] = _charge_id(intent)
        return Payment.Status.AUTHORIZED, changes, Order.Status.AUTHORIZED
    if status == "succeeded":
        changes = {
            "amount_captured": intent["amount_received"],
            "application_fee_amount": intent.get("application_fee_amount") or 0,
            "stripe_charge_id": _charge_id(intent),
        }
        return Payment.Status.CAPTURED, changes, Order.Status.CAPTURED
    if status == "canceled":
        expired = intent.get("cancellation_reason") in EXPIRY_REASONS
        return (
            Payment.Status.CANCELED,
            {},
            Order.Status.EXPIRED if expired else Order.Status.CANCELED,
        )
    return None, {}, None  # requires_payment_method (fresh), requires_confirmation, processing


def _save(obj, status: str, changes: dict) -> None:
    obj.status = status
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.save(update_fields=["status", "updated_at", *changes])


def payment_apply_intent(intent: dict) -> Payment | None:
    """Bring our Payment and its Order in line with a PaymentIntent snapshot.

    Returns the payment, or None when the intent is not one of ours. A snapshot
    that would move either status backwards (a late event) is ignored.
    """
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(stripe_payment_intent_id=intent["id"])
            .first()
        )
        if payment is None:
            return None
        target, changes, order_target = _targets(intent)
        if target is None:
            return payment
        if payment.status == target:
            if target == Payment.Status.PENDING:
                _save(payment, target, changes)  # a new decline on a retried card
        elif is_allowed(Payment.TRANSITIONS, payment.status, target):
            if target == Payment.Status.AUTHORIZED and payment.authorized_at:
                changes.pop("authorized_at")
            _save(payment, target, changes)
        else:
            logger.info("Ignoring %s for payment %s in %s", target, payment.pk, payment.status)
            return payment
        # Lock only the order row: PostgreSQL cannot lock the profile's outer join.
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("seller__profile", "buyer")
            .get(pk=payment.order_id)
        )
        if target == Payment.Status.PENDING:
            notify.payment_failed(order, payment, _decline_attempt(intent))
        if (
            order_target
            and order.status != order_target
            and is_allowed(Order.TRANSITIONS, order.status, order_target)
        ):
            _save(order, order_target, {})
            notify.order_status_changed(order, payment, order_target)
    return payment


def _decline_attempt(intent: dict) -> str:
    """What tells one decline from the next on the same intent (for one message each)."""
    error = intent.get("last_payment_error") or {}
    method = error.get("payment_method")
    method_id = method.get("id") if isinstance(method, dict) else method
    return error.get("charge") or method_id or error.get("code") or "declined"


def payment_sync(*, payment_id: int) -> Payment:
    """Re-read the payment's intent from Stripe and apply it (the return page's path).

    At most once per payment per STRIPE_SYNC_MIN_SECONDS: in between, our database
    (which webhooks keep current) is the answer (payments/services/stripe_reads.py).
    """
    payment = Payment.objects.get(pk=payment_id)
    if not payment.stripe_payment_intent_id or not stripe_reads.sync_due(payment.pk):
        return payment
    intent = gateway.payment_intent_retrieve(payment_intent=payment.stripe_payment_intent_id)
    stripe_reads.intent_remember(payment.pk, intent)
    return payment_apply_intent(intent) or payment


def order_flag(*, order_id: int, reason: str) -> None:
    """Mark an order for staff attention (a failed capture, a dispute)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        order.flagged = True
        order.flag_reason = reason[:255]
        order.save(update_fields=["flagged", "flag_reason", "updated_at"])


def payment_capture(*, payment_id: int) -> Payment:
    """Capture an authorised payment (after fulfilment, or by staff).

    A capture Stripe refuses (the authorisation was canceled or has expired)
    flags the order and records why; an unreachable Stripe raises
    GatewayUnavailable so the task retries with the same idempotency key.
    """
    payment = Payment.objects.get(pk=payment_id)
    if payment.status == Payment.Status.CAPTURED:
        return payment
    if payment.status != Payment.Status.AUTHORIZED:
        raise InvalidTransition("Payment", payment.status, Payment.Status.CAPTURED)
    try:
        intent = gateway.payment_intent_capture(
            payment_intent=payment.stripe_payment_intent_id or "",
            idempotency_key=f"payment-{payment.pk}-capture",
        )
    except (gateway.CardDeclined, gateway.GatewayRejected) as exc:
        intent = gateway.payment_intent_retrieve(
            payment_intent=payment.stripe_payment_intent_id or ""
        )
        payment_apply_intent(intent)
        with transaction.atomic():
            Payment.objects.filter(pk=payment.pk).update(
                last_error_code=getattr(exc, "code", "") or "capture_failed",
                last_error_message=str(exc)[:1000],
            )
        order_flag(order_id=payment.order_id, reason=f"Capture failed: {exc}")
        payment.refresh_from_db()
        return payment
    return payment_apply_intent(intent) or payment


def payment_cancel(*, payment_id: int, reason: str = "requested_by_customer") -> Payment:
    """Release an authorisation; `abandoned` is how expiry cancels (order → expired)."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status == Payment.Status.CANCELED:
        return payment
    if not is_allowed(Payment.TRANSITIONS, payment.status, Payment.Status.CANCELED):
        raise InvalidTransition("Payment", payment.status, Payment.Status.CANCELED)
    if not payment.stripe_payment_intent_id:
        # Never reached Stripe: nothing is held on the card.
        with transaction.atomic():
            payment_transition(payment_id=payment.pk, status=Payment.Status.CANCELED)
            order_transition(order_id=payment.order_id, status=Order.Status.CANCELED)
        payment.refresh_from_db()
        return payment
    intent = gateway.payment_intent_cancel(
        payment_intent=payment.stripe_payment_intent_id,
        reason=reason,
        idempotency_key=f"payment-{payment.pk}-cancel",
    )
    return payment_apply_intent(intent) or payment


def authorizations_expire(*, now: datetime | None = None) -> int:
    """Cancel authorisations older than AUTHORIZATION_TTL_HOURS; returns how many.

    Runs on Celery beat, well before Stripe's own 7-day limit, so the order ends
    as "expired" on our terms and the buyer's hold is released.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.AUTHORIZATION_TTL_HOURS)
    stale = Payment.objects.filter(
        status=Payment.Status.AUTHORIZED, authorized_at__lt=cutoff
    ).values_list("pk", flat=True)
    expired = 0
    for payment_id in stale:
        try:
            payment_cancel(payment_id=payment_id, reason="abandoned")
            expired += 1
        except gateway.GatewayRejected as exc:
            logger.warning("Could not expire payment %s: %s", payment_id, exc)
            payment = Payment.objects.get(pk=payment_id)
            order_flag(order_id=payment.order_id, reason=f"Expiry failed: {exc}")
    return expired
