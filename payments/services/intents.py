"""PaymentIntents: create, follow, capture, cancel and expire buyers' authorisations.

Our Payment and Order follow the PaymentIntent through `payment_apply_intent`,
which both the webhook handlers and the buyer's return page call: whichever comes
first moves the status, the other finds nothing to do, and a late or duplicate
snapshot never moves a status backwards.
"""

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import outbox
from core.commit import after_commit
from core.metrics import MONEY_OPERATIONS
from core.statemachine import InvalidTransition, is_allowed, transition, transition_locked
from notifications import events as notify
from payments import gateway
from payments.models import Payment
from shop.models import Order
from shop.shipping import order_shipping

from . import capture_deadline, stripe_reads
from .customers import buyer_customer_ensure

logger = logging.getLogger(__name__)

# At most this many Stripe calls at once for one checkout (Stripe's test mode allows 25/s).
PARALLEL_STRIPE_CALLS = 5
# Cancellation reasons that mean "nobody captured it in time", not "someone canceled".
# Cancellation reasons that mean the authorisation ran out rather than someone
# cancelling: ours (`abandoned`, payment_cancel on expiry) and Stripe's (`automatic`,
# and `expired` in the current API version).
EXPIRY_REASONS = {"abandoned", "automatic", "expired"}


def payment_intent_ensure(*, payment_id: int) -> dict:
    """The payment's PaymentIntent, creating it at Stripe the first time.

    The idempotency key comes from our Payment row, so a retry after a network
    failure returns the intent Stripe already made instead of a second one.
    """
    return payment_intents_ensure(payment_ids=[payment_id])[0]


def payment_intents_ensure(*, payment_ids: list[int]) -> list[dict]:
    """`payment_intent_ensure` for several payments (one checkout), in their order.

    A checkout of several contractors' orders becomes one PaymentIntent on the
    platform, shared by their rows (payments/services/groups.py): one Stripe call
    whatever the number of contractors, and one confirmation for the buyer. A
    checkout already paid per order (before that) keeps an intent per order.

    One Stripe call per intent, side by side (a cart from five contractors paid per
    order used to wait for five intents one after another: 3.4 s with Stripe at
    300 ms). Only the calls leave this thread; the database is read before and
    written after, here. When a call fails, the intents that were made are still
    recorded, then the first error is raised.
    """
    from . import groups

    found = Payment.objects.select_related("order").in_bulk(payment_ids)
    payments = [found[pk] for pk in payment_ids]
    new_groups = groups.new_groups(payments)
    lead_of_row = {row.pk: lead for lead, rows in new_groups.items() for row in rows}
    buyers = {p.order.buyer_id for p in payments if not p.stripe_payment_intent_id}
    customers = {buyer_id: buyer_customer_ensure(user_id=buyer_id) for buyer_id in buyers}

    calls: dict[str, Callable[[], dict]] = {}
    call_of: dict[int, str] = {}
    for payment in payments:
        if payment.stripe_payment_intent_id:
            # Reloads of the pay page reuse a read of a few seconds ago.
            key = f"read:{payment.stripe_payment_intent_id}"
            calls.setdefault(key, partial(_intent_read, payment))
        elif payment.pk in lead_of_row:
            lead = lead_of_row[payment.pk]
            key = f"group:{lead}"
            rows = new_groups[lead]
            calls.setdefault(
                key, partial(groups.group_intent_create, rows, customers[payment.order.buyer_id])
            )
        else:
            key = f"order:{payment.pk}"
            calls[key] = partial(_intent_create, payment, customers[payment.order.buyer_id])
        call_of[payment.pk] = key
    results = _side_by_side(calls)
    for key, result in results.items():
        if isinstance(result, dict) and key.startswith("group:"):
            groups.group_intent_record(new_groups[int(key.split(":")[1])], result)
        elif isinstance(result, dict) and key.startswith("order:"):
            _intent_record(found[int(key.split(":")[1])], result)
    for result in results.values():
        if isinstance(result, Exception):
            raise result
    return [results[call_of[payment.pk]] for payment in payments]  # type: ignore[misc]


def _intent_read(payment: Payment) -> dict:
    intent_id = payment.stripe_payment_intent_id or ""
    return stripe_reads.intent_read(
        payment.pk, lambda: gateway.payment_intent_retrieve(payment_intent=intent_id)
    )


def _side_by_side(calls: dict[str, Callable[[], dict]]) -> dict[str, dict | Exception]:
    """Each call's result (or the exception it raised), the calls made in parallel."""

    def run(call: Callable[[], dict]) -> dict | Exception:
        try:
            return call()
        except Exception as exc:  # re-raised by the caller, once the others are recorded
            return exc

    if len(calls) <= 1:
        return {key: run(call) for key, call in calls.items()}
    with ThreadPoolExecutor(max_workers=min(len(calls), PARALLEL_STRIPE_CALLS)) as pool:
        return dict(zip(calls, pool.map(run, calls.values()), strict=True))


def _intent_create(payment: Payment, customer: str) -> dict:
    order = payment.order
    shipping = order_shipping(order)
    return gateway.payment_intent_create(
        amount=payment.amount,
        currency=payment.currency,
        customer=customer,
        destination=payment.destination_account,
        application_fee_amount=payment.application_fee_amount,
        order_id=order.pk,
        order_public_id=str(order.public_id),
        idempotency_key=f"payment-{payment.pk}-intent",
        # Only goods that ship carry an address (services send no `shipping` at all).
        **({"shipping": shipping} if shipping else {}),
    )


def _intent_record(payment: Payment, intent: dict) -> None:
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if not locked.stripe_payment_intent_id:
            locked.stripe_payment_intent_id = intent["id"]
            locked.save(update_fields=["stripe_payment_intent_id", "updated_at"])


def _capture_before(intent: dict, payment: Payment) -> datetime:
    return capture_deadline.capture_before(intent, payment.capture_before)


def _charge_id(intent: dict) -> str:
    charge = intent.get("latest_charge")
    if isinstance(charge, dict):
        return charge["id"]
    return charge or ""


@dataclass(frozen=True)
class _Outcome:
    """What a PaymentIntent snapshot asks of our rows."""

    payment: str  # the payment's status
    order: str | None = None  # the order's status, when the order moves with it
    changes: dict[str, Any] = field(default_factory=dict)  # the payment's other fields


def _declined(intent: dict, payment: Payment) -> _Outcome | None:
    error = intent.get("last_payment_error")
    if not error:
        return None  # a fresh intent, still waiting for its first card
    code, decline_code = error.get("code") or "", error.get("decline_code") or ""
    changes = {
        "last_error_code": decline_code or code or "card_declined",
        "last_error_message": gateway.decline_message(code, decline_code),
        "last_error_charge": error.get("charge") or _charge_id(intent),
    }
    # pending → pending is in the table: a new decline on a retried card is recorded.
    return _Outcome(Payment.Status.PENDING, Order.Status.FAILED, changes)


def _requires_action(intent: dict, payment: Payment) -> _Outcome:
    return _Outcome(Payment.Status.REQUIRES_ACTION)


def _authorized(intent: dict, payment: Payment) -> _Outcome:
    changes = {
        "amount_authorized": intent["amount_capturable"],
        "authorized_at": payment.authorized_at or timezone.now(),
        "capture_before": _capture_before(intent, payment),
        "last_error_code": "",
        "last_error_message": "",
    }
    if _charge_id(intent):
        # Known now, so a transfer.created that beats the capture's event still matches.
        changes["stripe_charge_id"] = _charge_id(intent)
    return _Outcome(Payment.Status.AUTHORIZED, Order.Status.AUTHORIZED, changes)


# A captured or canceled intent leaves no capture or cancellation to send, whoever
# reported it first (the task, or a webhook after the task that made it died).
_NOTHING_TO_DO = {"action": "", "action_reason": "", "due_at": None}


def _captured(intent: dict, payment: Payment) -> _Outcome:
    changes = {
        "amount_captured": intent["amount_received"],
        "application_fee_amount": intent.get("application_fee_amount") or 0,
        "stripe_charge_id": _charge_id(intent),
        **_NOTHING_TO_DO,
    }
    return _Outcome(Payment.Status.CAPTURED, Order.Status.CAPTURED, changes)


def _canceled(intent: dict, payment: Payment) -> _Outcome:
    expired = intent.get("cancellation_reason") in EXPIRY_REASONS
    return _Outcome(
        Payment.Status.CANCELED,
        Order.Status.EXPIRED if expired else Order.Status.CANCELED,
        dict(_NOTHING_TO_DO),
    )


# By the intent's status; requires_confirmation and processing ask nothing of us.
_OUTCOMES: dict[str, Callable[[dict, Payment], _Outcome | None]] = {
    "requires_payment_method": _declined,
    "requires_action": _requires_action,
    "requires_capture": _authorized,
    "succeeded": _captured,
    "canceled": _canceled,
}


def payment_apply_intent(intent: dict) -> Payment | None:
    """Bring our Payment and its Order in line with a PaymentIntent snapshot.

    The one step after every answer from Stripe about an intent (webhook, return
    page, capture, cancel): look the payment up and lock it, move it as far as the
    snapshot asks and its table allows, move its order with it, and tell the buyer
    and the contractor once the transaction commits. A late or repeated snapshot
    moves nothing backwards. Returns the payment, or None when the intent is not ours.
    """
    # An authorised intent's deadline is on its charge: read it before locking.
    intent = capture_deadline.intent_with_charge(intent)
    with transaction.atomic():
        rows = list(
            Payment.objects.select_for_update()
            .filter(stripe_payment_intent_id=intent["id"])
            .order_by("pk")
        )
        if not rows:
            return None
        if rows[0].shares_intent:
            from . import groups

            return groups.group_apply(rows, intent)
        payment = rows[0]
        build = _OUTCOMES.get(intent["status"])
        outcome = build(intent, payment) if build else None
        if outcome is None:
            return payment
        transition_locked(payment, outcome.payment, changes=outcome.changes, may_be_late=True)
        if payment.status != outcome.payment:
            return payment  # late: the payment is already further along
        # Lock only the order row: PostgreSQL cannot lock the profile's outer join.
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("seller__profile", "buyer")
            .get(pk=payment.order_id)
        )
        order_moved = outcome.order is not None and transition_locked(
            order, outcome.order, may_be_late=True
        )
        if outcome.payment == Payment.Status.PENDING:
            after_commit(notify.payment_failed, order, payment, _decline_attempt(intent))
        if order_moved:
            after_commit(notify.order_status_changed, order, payment, outcome.order)
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
    # Expanded: an authorised intent's deadline is on its charge (capture_deadline.py).
    intent = gateway.payment_intent_retrieve(
        payment_intent=payment.stripe_payment_intent_id, expand_charge=True
    )
    if payment.shares_intent:
        # One read serves every order of the checkout: the page asks for each in turn.
        siblings = Payment.objects.filter(
            stripe_payment_intent_id=payment.stripe_payment_intent_id
        ).values_list("pk", flat=True)
        stripe_reads.synced(list(siblings), intent)
    else:
        stripe_reads.intent_remember(payment.pk, intent)
    payment_apply_intent(intent)
    payment.refresh_from_db()
    return payment


def order_flag(*, order_id: int, reason: str) -> None:
    """Mark an order for staff attention (a failed capture, a dispute)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        order.flagged = True
        order.flag_reason = reason[:255]
        order.save(update_fields=["flagged", "flag_reason", "updated_at"])


def payment_capture_request(*, payment_id: int) -> bool:
    """Ask for an authorised payment's capture (the order was fulfilled, or staff asked);
    False when the payment is not authorised. Call inside the caller's transaction:
    the capture is handed to a worker once it commits, and by the dispatcher
    (core/outbox.py) if that message never arrives."""
    shared = Payment.objects.filter(pk=payment_id).exclude(transfer_group="").exists()
    if shared:
        from . import groups

        with transaction.atomic():
            done = groups.capture_request(payment_id)
            if done is not None:
                return done  # its money is on the platform already: paid now
    return _action_request(payment_id, Payment.Action.CAPTURE, "", {Payment.Status.AUTHORIZED})


def payment_cancel_request(*, payment_id: int, reason: str = "requested_by_customer") -> bool:
    """Ask for an authorisation to be released (staff, the buyer, expiry with
    `abandoned`); False when the payment can no longer be canceled."""
    cancelable = {s for s in Payment.Status if is_allowed(Payment.TRANSITIONS, s, "canceled")}
    return _action_request(payment_id, Payment.Action.CANCEL, reason, cancelable)


def _action_request(payment_id: int, action: str, reason: str, allowed: set) -> bool:
    from payments.tasks import payment_cancel_task, payment_capture_task

    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status not in allowed:
            return False
        if payment.action == action and payment.due_at is not None:
            return True  # asked already: it is on its way
        Payment.objects.filter(pk=payment.pk).update(
            action=action, action_reason=reason, **outbox.first_dispatch()
        )
        task = payment_capture_task if action == Payment.Action.CAPTURE else payment_cancel_task
        outbox.enqueue_on_commit(task, payment.pk)
    return True


def _action_done(payment: Payment) -> None:
    """Stripe has answered the capture or cancellation for good (done or refused)."""
    Payment.objects.filter(pk=payment.pk).update(action="", action_reason="", due_at=None)


def payment_capture(*, payment_id: int) -> Payment:
    """Capture an authorised payment (its capture was asked for: see
    `payment_capture_request`).

    A capture Stripe refuses (the authorisation was canceled or has expired)
    flags the order and records why; an unreachable Stripe raises
    GatewayUnavailable, and the task tries again later with the same idempotency key.
    """
    payment = Payment.objects.get(pk=payment_id)
    if payment.status == Payment.Status.CAPTURED:
        _action_done(payment)
        return payment
    if payment.status != Payment.Status.AUTHORIZED:
        _action_done(payment)
        raise InvalidTransition("Payment", payment.status, Payment.Status.CAPTURED)
    if payment.shares_intent:
        from . import groups

        return groups.group_capture(payment)
    try:
        intent = gateway.payment_intent_capture(
            payment_intent=payment.stripe_payment_intent_id or "",
            idempotency_key=f"payment-{payment.pk}-capture",
        )
    except (gateway.CardDeclined, gateway.GatewayRejected) as exc:
        intent = gateway.payment_intent_retrieve(
            payment_intent=payment.stripe_payment_intent_id or ""
        )
        # What Stripe has now (canceled, expired), why the capture failed, and the
        # flag for staff: recorded together.
        with transaction.atomic():
            payment_apply_intent(intent)
            Payment.objects.filter(pk=payment.pk).update(
                last_error_code=getattr(exc, "code", "") or "capture_failed",
                last_error_message=str(exc)[:1000],
            )
            _action_done(payment)
            order_flag(order_id=payment.order_id, reason=f"Capture failed: {exc}")
        MONEY_OPERATIONS.labels("capture", "failed").inc()
        payment.refresh_from_db()
        return payment
    MONEY_OPERATIONS.labels("capture", "succeeded").inc()
    with transaction.atomic():
        applied = payment_apply_intent(intent)
        _action_done(payment)
    return applied or payment


def payment_cancel_requested(*, payment_id: int) -> Payment:
    """Cancel a payment whose cancellation was asked for, with the reason asked."""
    payment = Payment.objects.get(pk=payment_id)
    return payment_cancel(
        payment_id=payment_id, reason=payment.action_reason or "requested_by_customer"
    )


def payment_cancel(*, payment_id: int, reason: str = "requested_by_customer") -> Payment:
    """Release an authorisation; `abandoned` is how expiry cancels (order → expired).
    An order of a checkout's shared charge leaves it (payments/services/groups.py)."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.shares_intent:
        from . import groups

        return groups.group_cancel(payment, reason)
    if payment.status == Payment.Status.CANCELED:
        _action_done(payment)
        return payment
    if not is_allowed(Payment.TRANSITIONS, payment.status, Payment.Status.CANCELED):
        _action_done(payment)
        raise InvalidTransition("Payment", payment.status, Payment.Status.CANCELED)
    if not payment.stripe_payment_intent_id:
        # Never reached Stripe: nothing is held on the card.
        with transaction.atomic():
            transition(Payment, payment.pk, Payment.Status.CANCELED)
            transition(Order, payment.order_id, Order.Status.CANCELED)
            _action_done(payment)
        payment.refresh_from_db()
        return payment
    try:
        intent = gateway.payment_intent_cancel(
            payment_intent=payment.stripe_payment_intent_id,
            reason=reason,
            idempotency_key=f"payment-{payment.pk}-cancel",
        )
    except gateway.GatewayRejected as exc:
        # Already captured or canceled at Stripe: record what Stripe has, stop asking.
        intent = gateway.payment_intent_retrieve(payment_intent=payment.stripe_payment_intent_id)
        with transaction.atomic():
            payment_apply_intent(intent)
            _action_done(payment)
            order_flag(order_id=payment.order_id, reason=f"Cancellation failed: {exc}")
        payment.refresh_from_db()
        return payment
    with transaction.atomic():
        applied = payment_apply_intent(intent)
        _action_done(payment)
    return applied or payment


def authorizations_expire(*, now: datetime | None = None) -> int:
    """Ask for the cancellation of authorisations older than AUTHORIZATION_TTL_HOURS,
    or as close to their own `capture_before` (as `abandoned`); returns how many.

    Runs on Celery beat, well before Stripe's own 7-day limit, so the order ends
    as "expired" on our terms and the buyer's hold is released. A fulfilled order's
    payment, waiting for its capture, is left to the capture. An order of a checkout
    whose charge was captured for another order has the same time from its
    authorisation: then its part is refunded (payments/services/groups.py).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.AUTHORIZATION_TTL_HOURS)
    # Old enough, or close to the deadline Stripe gave this payment's charge (shorter
    # than 7 days for some brands and merchant-initiated payments).
    deadline_near = now + capture_deadline.expiry_margin()
    stale = Payment.objects.filter(
        Q(authorized_at__lt=cutoff) | Q(capture_before__lt=deadline_near),
        status=Payment.Status.AUTHORIZED,
        action="",
    ).values_list("pk", flat=True)
    return sum(payment_cancel_request(payment_id=pk, reason="abandoned") for pk in stale)
