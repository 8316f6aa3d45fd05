"""Refunds: asked for by staff (admin, API), executed by a task, confirmed by webhooks.

Whatever asks, `refund_request` locks the payment row before it checks what is
still refundable, so two staff clicking at once can never refund more than was
captured. Refunds made in Stripe's dashboard arrive by webhook and are recorded
once, keyed by their Stripe id.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum

from core.money import format_amount
from core.statemachine import is_allowed
from notifications import events as notify
from payments import gateway
from payments.models import Payment, Refund
from shop.models import Order

from .intents import order_flag

logger = logging.getLogger(__name__)

# Money is committed to the buyer once Stripe has the refund, until it fails.
COMMITTED = (Refund.Status.REQUESTED, Refund.Status.PENDING, Refund.Status.SUCCEEDED)
STRIPE_STATUS = {
    "pending": Refund.Status.PENDING,
    "requires_action": Refund.Status.PENDING,
    "succeeded": Refund.Status.SUCCEEDED,
    "failed": Refund.Status.FAILED,
    "canceled": Refund.Status.CANCELED,
}


class RefundError(Exception):
    """Why a refund cannot be made, in words fit for staff."""


def refund_policy() -> dict[str, bool]:
    """The platform's default refund policy (staff may override per refund)."""
    return {
        "reverse_transfer": settings.REFUND_REVERSE_TRANSFER,
        "refund_application_fee": settings.REFUND_APPLICATION_FEE,
    }


def refundable_amount(payment: Payment) -> int:
    """Captured minus every refund that is asked for, on its way, or done."""
    committed = payment.refunds.filter(status__in=COMMITTED).aggregate(total=Sum("amount"))
    return payment.amount_captured - (committed["total"] or 0)


def refund_request(
    *,
    payment_id: int,
    amount: int,
    reason: str = "",
    note: str = "",
    reverse_transfer: bool | None = None,
    refund_application_fee: bool | None = None,
    requested_by_id: int | None = None,
) -> Refund:
    """Record a refund of `amount` and have a Celery task send it to Stripe.

    Refuses zero, negative, and more than captured minus already refunded
    (counting refunds still in flight), under a lock on the payment.
    """
    from payments.tasks import refund_execute_task

    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise RefundError("The refund amount must be more than zero.")
    if reason and reason not in Refund.Reason.values:
        raise RefundError(f"Unknown refund reason '{reason}'.")
    policy = refund_policy()
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status != Payment.Status.CAPTURED:
            raise RefundError("Only captured payments can be refunded.")
        available = refundable_amount(payment)
        if amount > available:
            raise RefundError(
                f"At most {format_amount(available, payment.currency)} can still be refunded."
            )
        refund = Refund.objects.create(
            payment=payment,
            amount=amount,
            currency=payment.currency,
            reason=reason,
            note=note,
            reverse_transfer=policy["reverse_transfer"]
            if reverse_transfer is None
            else reverse_transfer,
            refund_application_fee=policy["refund_application_fee"]
            if refund_application_fee is None
            else refund_application_fee,
            requested_by_id=requested_by_id,
        )
        transaction.on_commit(lambda: refund_execute_task.delay(refund.pk))
        notify.refund_issued(refund)
    return refund


def refund_execute(*, refund_id: int) -> Refund:
    """Send a requested refund to Stripe, keyed by its row so a retry is harmless."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != Refund.Status.REQUESTED:
        return refund
    try:
        result = gateway.refund_create(
            payment_intent=refund.payment.stripe_payment_intent_id or "",
            amount=refund.amount,
            reason=refund.reason,
            reverse_transfer=refund.reverse_transfer,
            refund_application_fee=refund.refund_application_fee,
            refund_id=refund.pk,
            idempotency_key=f"refund-{refund.pk}",
        )
    except (gateway.GatewayRejected, gateway.CardDeclined) as exc:
        with transaction.atomic():
            locked = Refund.objects.select_for_update().get(pk=refund.pk)
            if locked.status == Refund.Status.REQUESTED:
                _move(locked, Refund.Status.FAILED, failure_reason=str(exc)[:1000])
        refund.refresh_from_db()
        return refund
    return refund_apply(result) or refund


def _move(refund: Refund, status: str, **changes) -> None:
    refund.status = status
    for name, value in changes.items():
        setattr(refund, name, value)
    refund.save(update_fields=["status", "updated_at", *changes])


def _adoptable(refund: Refund, stripe_refund: dict) -> bool:
    """Whether our `refund` (named by the Stripe refund's metadata) may take its id.

    Metadata is only a claim: the row must not have a Stripe id yet, and the Stripe
    refund must be of the row's own payment. Otherwise it is not ours to rename; it
    is then recorded like any refund made outside the shop.
    """
    if refund.stripe_refund_id:
        logger.warning(
            "Refund %s claims our refund %s, which is %s",
            stripe_refund["id"],
            refund.pk,
            refund.stripe_refund_id,
        )
        return False
    intent, charge = Payment.objects.values_list(
        "stripe_payment_intent_id", "stripe_charge_id"
    ).get(pk=refund.payment_id)
    if stripe_refund.get("payment_intent"):
        same = stripe_refund["payment_intent"] == intent
    else:
        same = bool(charge) and stripe_refund.get("charge") == charge
    if not same:
        logger.warning(
            "Refund %s claims our refund %s of another payment", stripe_refund["id"], refund.pk
        )
    return same


def _find_or_record(stripe_refund: dict) -> Refund | None:
    """Our row for a Stripe refund: by id, by our metadata, or a new dashboard refund."""
    refund = Refund.objects.select_for_update().filter(stripe_refund_id=stripe_refund["id"]).first()
    if refund is not None:
        return refund
    ours = (stripe_refund.get("metadata") or {}).get("refund_id")
    if ours and str(ours).isdigit():
        refund = Refund.objects.select_for_update().filter(pk=int(ours)).first()
        if refund is not None and _adoptable(refund, stripe_refund):
            refund.stripe_refund_id = stripe_refund["id"]
            refund.save(update_fields=["stripe_refund_id", "updated_at"])
            return refund
    payment = (
        Payment.objects.filter(
            stripe_payment_intent_id=stripe_refund.get("payment_intent") or "-"
        ).first()
        or Payment.objects.filter(stripe_charge_id=stripe_refund.get("charge") or "-").first()
    )
    if payment is None:
        return None
    # Made in Stripe's dashboard (or by any other client): record it as it is.
    try:
        with transaction.atomic():
            return Refund.objects.create(
                payment=payment,
                stripe_refund_id=stripe_refund["id"],
                status=Refund.Status.PENDING,
                amount=stripe_refund["amount"],
                currency=stripe_refund["currency"],
                reason=stripe_refund.get("reason") or "",
                note="Made outside the shop (Stripe dashboard).",
                reverse_transfer=False,
                refund_application_fee=False,
            )
    except IntegrityError:
        # The same refund's other event recorded it a moment ago.
        return Refund.objects.select_for_update().get(stripe_refund_id=stripe_refund["id"])


def refund_apply(stripe_refund: dict) -> Refund | None:
    """Bring our Refund (and its payment and order) in line with a Stripe refund.

    Called by the executing task and by refund/charge webhooks, in any order and
    any number of times; a status only moves forward.
    """
    target = STRIPE_STATUS.get(stripe_refund.get("status") or "")
    with transaction.atomic():
        refund = _find_or_record(stripe_refund)
        if refund is None:
            logger.info("Refund %s is not for one of our payments", stripe_refund.get("id"))
            return None
        if (
            target
            and refund.status != target
            and is_allowed(Refund.TRANSITIONS, refund.status, target)
        ):
            changes = {}
            if target == Refund.Status.FAILED:
                changes["failure_reason"] = stripe_refund.get("failure_reason") or "failed"
            _move(refund, target, **changes)
            if target == Refund.Status.SUCCEEDED:
                notify.refund_confirmed(refund)
    _payment_totals_update(refund.payment_id)
    return refund


def _payment_totals_update(payment_id: int) -> None:
    """Recompute what was refunded of a payment and move its order accordingly."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        refunded = (
            payment.refunds.filter(
                status__in=[Refund.Status.PENDING, Refund.Status.SUCCEEDED]
            ).aggregate(total=Sum("amount"))["total"]
            or 0
        )
        refunded = min(refunded, payment.amount_captured)
        if refunded < payment.amount_refunded:
            # A refund failed after Stripe had taken it: never shrink silently.
            order_flag(order_id=payment.order_id, reason="A refund failed after it was sent.")
            return
        if refunded != payment.amount_refunded:
            payment.amount_refunded = refunded
            payment.save(update_fields=["amount_refunded", "updated_at"])
        if refunded:
            order = Order.objects.select_for_update().get(pk=payment.order_id)
            target = (
                Order.Status.REFUNDED
                if refunded >= payment.amount_captured
                else Order.Status.PARTIALLY_REFUNDED
            )
            if order.status != target and is_allowed(Order.TRANSITIONS, order.status, target):
                order.status = target
                order.save(update_fields=["status", "updated_at"])


def refunds_sync_for_charge(charge: dict) -> None:
    """charge.refunded: read every refund of the charge's intent and record each once."""
    payment_intent = charge.get("payment_intent")
    if not payment_intent:
        return
    for stripe_refund in gateway.refund_list(payment_intent=payment_intent):
        refund_apply(stripe_refund)
