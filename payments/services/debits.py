"""Contractor debits: penalties taken from a contractor's connected account."""

import logging

from django.db import transaction
from django.db.models import Sum

from accounts.models import UserProfile
from core import outbox
from core.commit import after_commit
from core.metrics import MONEY_OPERATIONS
from core.money import format_amount
from core.statemachine import transition
from notifications import events as notify
from payments import gateway
from payments.models import ContractorDebit, Dispute, Payment, Refund

logger = logging.getLogger(__name__)


class DebitError(Exception):
    """A debit that cannot be made as asked, in words fit for staff."""


def debit_check(
    *, contractor_id: int, amount: int, currency: str, reason: str, order_id: int | None = None
) -> tuple[str, str]:
    """Validate a debit before anything is written; returns (method, currency).

    Tied to an order, it is a reversal of that order's transfer (never more than
    the contractor received for it, and in its currency); otherwise an account debit.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise DebitError("The amount must be positive.")
    if not reason.strip():
        raise DebitError("Say why the contractor is debited.")
    profile = UserProfile.objects.filter(user_id=contractor_id).first()
    if profile is None or not profile.is_contractor:
        raise DebitError("Only contractors can be debited.")
    if not profile.stripe_id.startswith("acct_"):
        raise DebitError("This contractor has no Stripe account yet.")
    if order_id is None:
        return ContractorDebit.Method.ACCOUNT_DEBIT, currency
    payment = Payment.objects.filter(
        order_id=order_id, order__seller_id=contractor_id, status=Payment.Status.CAPTURED
    ).first()
    if payment is None:
        raise DebitError("The order is not a captured sale of this contractor.")
    left = transfer_left(payment)
    if amount > left:
        raise DebitError(
            "A reversal cannot exceed what the contractor still holds of this order: "
            f"{format_amount(left, payment.currency)} after earlier refunds and debits."
        )
    return ContractorDebit.Method.TRANSFER_REVERSAL, payment.currency


def transfer_left(payment: Payment) -> int:
    """What the contractor still holds of this order's transfer, in minor units.

    For a destination charge: what they received (captured − fee), less what refunds
    with `reverse_transfer` and earlier reversal debits took back (those not failed: a
    pending one will take it), plus the platform fee given back with refunds that
    return it — the share Stripe returns, fee × refund ÷ captured, rounded half-up.
    For an order of a checkout's platform charge: its own Transfer, once sent, less
    what reversals took (payments/services/transfers.py).
    """
    if payment.shares_intent:
        from .transfers import transfer_held

        return transfer_held(payment)
    live_refunds = payment.refunds.filter(reverse_transfer=True).exclude(
        status__in=[Refund.Status.FAILED, Refund.Status.CANCELED]
    )
    captured, fee = payment.amount_captured, payment.application_fee_amount
    reversed_by_refunds = fee_returned = 0
    for refund in live_refunds.only("amount", "refund_application_fee"):
        reversed_by_refunds += refund.amount
        if refund.refund_application_fee and captured:
            fee_returned += (fee * refund.amount * 2 + captured) // (2 * captured)
    debited = (
        ContractorDebit.objects.filter(
            order_id=payment.order_id, method=ContractorDebit.Method.TRANSFER_REVERSAL
        )
        .exclude(status=ContractorDebit.Status.FAILED)
        .aggregate(total=Sum("amount"))["total"]
        or 0
    )
    return max(0, captured - fee - reversed_by_refunds + fee_returned - debited)


def debit_create(
    *,
    contractor_id: int,
    amount: int,
    currency: str,
    reason: str,
    created_by_id: int | None,
    order_id: int | None = None,
) -> ContractorDebit:
    """Record a debit (see `debit_check`) and have a Celery task perform it after commit
    (the row is the record of the work: core/outbox.py)."""
    from payments.tasks import debit_execute_task

    with transaction.atomic():
        if order_id is not None:
            # Two debits (or a debit and a refund) of one order are checked one after
            # the other: each sees what the previous one took.
            list(Payment.objects.select_for_update().filter(order_id=order_id))
        method, currency = debit_check(
            contractor_id=contractor_id,
            amount=amount,
            currency=currency,
            reason=reason,
            order_id=order_id,
        )
        debit = ContractorDebit.objects.create(
            contractor_id=contractor_id,
            order_id=order_id,
            amount=amount,
            currency=currency,
            reason=reason.strip(),
            method=method,
            created_by_id=created_by_id,
            **outbox.first_dispatch(),
        )
        outbox.enqueue_on_commit(debit_execute_task, debit.pk)
    return debit


def _transfer_of(payment: Payment) -> str:
    if payment.stripe_transfer_id:
        return payment.stripe_transfer_id
    charge = gateway.charge_retrieve(charge=payment.stripe_charge_id)
    transfer = charge.get("transfer") or ""
    return transfer["id"] if isinstance(transfer, dict) else transfer


def debit_execute(*, debit_id: int) -> ContractorDebit:
    """Perform a pending debit at Stripe; its row's id is the idempotency key.

    Stripe refusing it (no balance, wrong state) marks it failed with the reason;
    an unreachable Stripe raises GatewayUnavailable for the task to retry.
    """
    debit = ContractorDebit.objects.select_related("contractor__profile", "order").get(pk=debit_id)
    if debit.status != ContractorDebit.Status.PENDING:
        return debit
    try:
        if debit.method == ContractorDebit.Method.TRANSFER_REVERSAL:
            payment = debit.order.payments.get(status=Payment.Status.CAPTURED)  # type: ignore[union-attr]
            result = gateway.transfer_reversal_create(
                transfer=_transfer_of(payment),
                amount=debit.amount,
                debit_id=debit.pk,
                idempotency_key=f"debit-{debit.pk}",
            )
        else:
            result = gateway.account_debit_create(
                account=debit.contractor.profile.stripe_id,
                amount=debit.amount,
                currency=debit.currency,
                debit_id=debit.pk,
                reason=debit.reason,
                idempotency_key=f"debit-{debit.pk}",
            )
    except (gateway.GatewayRejected, gateway.CardDeclined) as exc:
        with transaction.atomic():
            debit, _ = transition(
                ContractorDebit,
                debit.pk,
                ContractorDebit.Status.FAILED,
                changes={"failure_message": str(exc)[:1000]},
            )
            _dispute_recovery_failed(debit, exc)
        MONEY_OPERATIONS.labels("debit", "failed").inc()
        return debit
    MONEY_OPERATIONS.labels("debit", "succeeded").inc()
    with transaction.atomic():
        debit, moved = transition(
            ContractorDebit,
            debit.pk,
            ContractorDebit.Status.SUCCEEDED,
            changes={"stripe_object_id": result["id"]},
        )
        if moved:
            after_commit(notify.debit_taken, debit)
    return debit


def _dispute_recovery_failed(debit: ContractorDebit, exc: Exception) -> None:
    """(In the transaction that failed the debit) A dispute's recovery Stripe refused
    is money the platform has not got back: it counts in the dispute's shortfall and
    flags the order for staff, as a recovery that could not even be asked does."""
    from .intents import order_flag

    for dispute in Dispute.objects.select_for_update().filter(debits=debit):
        dispute.recovery_shortfall += debit.amount
        dispute.save(update_fields=["recovery_shortfall", "updated_at"])
        order_flag(
            order_id=dispute.order_id,
            reason=f"Dispute {dispute}: Stripe refused to take back"
            f" {format_amount(debit.amount, debit.currency)}: {exc}",
        )
