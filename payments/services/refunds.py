"""Refunds: asked for by staff (admin, API), executed by a task, confirmed by webhooks.

Whatever asks, `refund_request` locks the payment row before it checks what is
still refundable, so two staff clicking at once can never refund more than was
captured. `refund_apply` records what Stripe says of a refund under the same lock.
Refunds made in Stripe's dashboard arrive by webhook and are recorded once, keyed
by their Stripe id.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum

from core import outbox
from core.commit import after_commit
from core.metrics import MONEY_OPERATIONS
from core.money import format_amount
from core.statemachine import transition, transition_locked
from notifications import events as notify
from payments import gateway
from payments.models import Dispute, Payment, Refund
from shop.models import Order

from . import transfers
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
    """Record a refund of `amount` and have a Celery task send it to Stripe (the row is
    the record of the work: core/outbox.py).

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
        if _charged_back(payment):
            raise RefundError(
                "The buyer's bank has taken this payment back (a dispute): Stripe refuses"
                " refunds of it. Answer or accept the dispute instead."
            )
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
            **outbox.first_dispatch(),
        )
        after_commit(notify.refund_issued, refund)
        outbox.enqueue_on_commit(refund_execute_task, refund.pk)
    return refund


def _charged_back(payment: Payment) -> bool:
    """A chargeback on the payment's charge that Stripe says leaves it unrefundable
    (`is_charge_refundable`; an inquiry, which a refund may settle, never counts)."""
    if not payment.stripe_charge_id:
        return False
    inquiries = {
        Dispute.Status.WARNING_NEEDS_RESPONSE,
        Dispute.Status.WARNING_UNDER_REVIEW,
        Dispute.Status.WARNING_CLOSED,
    }
    return (
        Dispute.objects.filter(
            stripe_charge_id=payment.stripe_charge_id, is_charge_refundable=False
        )
        .exclude(status__in=inquiries)
        .exists()
    )


def refund_execute(*, refund_id: int) -> Refund:
    """Send a requested refund to Stripe, keyed by its row so a retry is harmless."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != Refund.Status.REQUESTED:
        return refund
    # A checkout's platform charge made no transfer for Stripe to reverse: the
    # contractor's share comes back by our own reversal once the refund succeeded.
    linked = not refund.payment.shares_intent
    try:
        result = gateway.refund_create(
            payment_intent=refund.payment.stripe_payment_intent_id or "",
            amount=refund.amount,
            reason=refund.reason,
            reverse_transfer=refund.reverse_transfer and linked,
            refund_application_fee=refund.refund_application_fee and linked,
            refund_id=refund.pk,
            idempotency_key=f"refund-{refund.pk}",
        )
    except (gateway.GatewayRejected, gateway.CardDeclined) as exc:
        with transaction.atomic():
            locked = Refund.objects.select_for_update().get(pk=refund.pk)
            if locked.status == Refund.Status.REQUESTED:  # not reported by Stripe meanwhile
                transition_locked(
                    locked, Refund.Status.FAILED, changes={"failure_reason": str(exc)[:1000]}
                )
        MONEY_OPERATIONS.labels("refund", "failed").inc()
        refund.refresh_from_db()
        return refund
    MONEY_OPERATIONS.labels("refund", "sent").inc()
    return refund_apply(result) or refund


def refund_apply(stripe_refund: dict) -> Refund | None:
    """Bring our Refund, its payment's refunded total and its order in line with a
    Stripe refund.

    Called by the executing task and by refund/charge webhooks, in any order and any
    number of times. One transaction: lock the payment, find (or record) the refund,
    move its status (only forward), record the payment's refunded total and move the
    order, and tell the buyer and the contractor once it commits.
    """
    target = STRIPE_STATUS.get(stripe_refund.get("status") or "")
    with transaction.atomic():
        payment = _payment_locked(stripe_refund)
        if payment is None:
            logger.info("Refund %s is not for one of our payments", stripe_refund.get("id"))
            return None
        refund = _refund_locked(payment, stripe_refund)
        moved = target is not None and transition_locked(
            refund, target, changes=_refund_changes(target, stripe_refund), may_be_late=True
        )
        if moved and target == Refund.Status.SUCCEEDED:
            after_commit(notify.refund_confirmed, refund)
            transfers.reversal_for_refund(refund)
        _refunded_record(payment)
    return refund


def _payment_locked(stripe_refund: dict) -> Payment | None:
    """The payment a Stripe refund is of, locked: the one we recorded it for, else the
    one whose refund row its metadata names among the payments of its intent, else
    the destination charge whose intent (or, without one, charge) it names.

    A refund of a checkout's shared charge that names none of our rows (made in
    Stripe's dashboard) cannot be told to be one order's: it is left for
    reconciliation to report, not guessed.
    """
    payments = Payment.objects.select_for_update()
    recorded = (
        Refund.objects.filter(stripe_refund_id=stripe_refund["id"])
        .values_list("payment_id", flat=True)
        .first()
    )
    if recorded is not None:
        return payments.get(pk=recorded)
    claimed = str((stripe_refund.get("metadata") or {}).get("refund_id") or "")
    if claimed.isdigit():
        owner = (
            Refund.objects.filter(
                pk=int(claimed),
                payment__stripe_payment_intent_id=stripe_refund.get("payment_intent") or "-",
            )
            .values_list("payment_id", flat=True)
            .first()
        )
        if owner is not None:
            return payments.get(pk=owner)
    destination = payments.filter(transfer_group="")
    return (
        destination.filter(
            stripe_payment_intent_id=stripe_refund.get("payment_intent") or "-"
        ).first()
        or destination.filter(stripe_charge_id=stripe_refund.get("charge") or "-").first()
    )


def _refund_locked(payment: Payment, stripe_refund: dict) -> Refund:
    """The payment's row for a Stripe refund, locked.

    Found by its Stripe id, or it is ours when our metadata names one of this
    payment's refunds that has no Stripe id yet (metadata is only a claim: a row
    keeps its Stripe id, and a refund of another payment is not ours to rename), or
    it is recorded as a refund made outside the shop (Stripe's dashboard).
    """
    stripe_id = stripe_refund["id"]
    rows = payment.refunds.select_for_update()
    refund = rows.filter(stripe_refund_id=stripe_id).first()
    if refund is not None:
        return refund
    claimed = (stripe_refund.get("metadata") or {}).get("refund_id")
    if claimed and str(claimed).isdigit():
        refund = (
            rows.filter(pk=int(claimed))
            .filter(Q(stripe_refund_id__isnull=True) | Q(stripe_refund_id=""))
            .first()
        )
        if refund is not None:
            refund.stripe_refund_id = stripe_id
            refund.save(update_fields=["stripe_refund_id", "updated_at"])
            return refund
        logger.warning("Refund %s claims our refund %s, which is not its own", stripe_id, claimed)
    return Refund.objects.create(
        payment=payment,
        stripe_refund_id=stripe_id,
        status=Refund.Status.PENDING,
        amount=stripe_refund["amount"],
        currency=stripe_refund["currency"],
        reason=stripe_refund.get("reason") or "",
        note="Made outside the shop (Stripe dashboard).",
        reverse_transfer=False,
        refund_application_fee=False,
    )


def _refund_changes(target: str, stripe_refund: dict) -> dict[str, str]:
    if target == Refund.Status.FAILED:
        return {"failure_reason": stripe_refund.get("failure_reason") or "failed"}
    return {}


def _refunded_record(payment: Payment) -> None:
    """Record what was refunded of the (locked) payment and move its order to match."""
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
        target = (
            Order.Status.REFUNDED
            if refunded >= payment.amount_captured
            else Order.Status.PARTIALLY_REFUNDED
        )
        transition(Order, payment.order_id, target, may_be_late=True)


def refunds_sync_for_charge(charge: dict) -> None:
    """charge.refunded: read every refund of the charge's intent and record each once."""
    payment_intent = charge.get("payment_intent")
    if not payment_intent:
        return
    for stripe_refund in gateway.refund_list(payment_intent=payment_intent):
        refund_apply(stripe_refund)
