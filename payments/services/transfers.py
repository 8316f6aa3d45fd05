"""Transfers: each contractor's money from a checkout's platform charge, sent once
*their* order is fulfilled, and taken back in proportion when the order is refunded.

A Transfer row is written *pending* in the transaction that marks the order's payment
captured (payments/services/groups.py) and sent by a task: amount − platform fee, to
the seller's connected account, `source_transaction` the checkout's charge (so the
money is the charge's and becomes available when the charge's does), in the
checkout's `transfer_group`, keyed by the row.

A refund of the order's part of the charge does not touch the transfer at Stripe (the
charge made none): once Stripe has refunded the buyer, a TransferReversal row takes
the contractor's share back, as `reverse_transfer` does for a destination charge:
with `refund_application_fee` (the default policy) the share of the transfer the
refund is of the order, so a full refund takes back all of the transfer and the
platform gives up its fee; without it the whole refund, up to what is left of the
transfer (the platform bears the rest: nothing beyond the transfer can be reversed).
"""

import logging

from django.db import transaction
from django.db.models import F, Sum

from core import outbox
from core.metrics import MONEY_OPERATIONS
from core.statemachine import transition, transition_locked
from payments import gateway
from payments.models import (
    ContractorDebit,
    Dispute,
    DisputeAction,
    Payment,
    Refund,
    Transfer,
    TransferReversal,
    attempt_key,
)

from .waits import NotYet

logger = logging.getLogger(__name__)

LIVE_REVERSALS = (TransferReversal.Status.PENDING, TransferReversal.Status.SUCCEEDED)


def transfer_ask(payment: Payment) -> Transfer | None:
    """(Inside the transaction that marks `payment` captured) The contractor's pending
    Transfer for the order, written once; None when the fee took all of it."""
    from payments.tasks import transfer_execute_task

    existing = Transfer.objects.filter(payment=payment).first()
    if existing is not None or payment.transfer_amount <= 0:
        return existing
    transfer = Transfer.objects.create(
        payment=payment,
        amount=payment.transfer_amount,
        currency=payment.currency,
        destination_account=payment.destination_account,
        transfer_group=payment.transfer_group,
        source_charge=payment.stripe_charge_id,
        **outbox.first_dispatch(),
    )
    outbox.enqueue_on_commit(transfer_execute_task, transfer.pk)
    return transfer


def transfer_execute(*, transfer_id: int) -> Transfer:
    """Send a pending transfer to Stripe, keyed by its row so a retry is harmless.

    Stripe refusing it (the account lost its transfers capability, …) marks it failed
    and flags the order for staff; an unreachable Stripe raises GatewayUnavailable for
    the task to retry.
    """
    from .disputes import transfer_dispute_hold
    from .intents import order_flag

    transfer = Transfer.objects.get(pk=transfer_id)
    if transfer.status != Transfer.Status.PENDING:
        return transfer
    disputed = Dispute.objects.filter(stripe_charge_id=transfer.source_charge).exists()
    if disputed or transfer.dispatches > 1:
        # An earlier try may have reached Stripe with its answer lost (a staff retry
        # restarts the count, so a disputed charge always asks). If it made the
        # transfer, that is recorded: never held back, nor sent again for less.
        made = _made_at_stripe(transfer)
        if made is not None:
            return transfer_record(made) or transfer
    with transaction.atomic():
        # The charge's disputes before the transfer, in the order dispute_apply locks
        # them: a dispute closing now either finds this transfer held (and releases
        # it) or is seen closed by the hold check.
        list(Dispute.objects.select_for_update().filter(stripe_charge_id=transfer.source_charge))
        transfer = (
            Transfer.objects.select_for_update().select_related("payment").get(pk=transfer_id)
        )
        if transfer.status == Transfer.Status.PENDING:
            transfer_dispute_hold(transfer)
    if transfer.status != Transfer.Status.PENDING:
        return transfer
    try:
        result = gateway.transfer_create(
            amount=transfer.amount,
            currency=transfer.currency,
            destination=transfer.destination_account,
            source_transaction=transfer.source_charge,
            transfer_group=transfer.transfer_group,
            order_id=transfer.payment.order_id,
            transfer_id=transfer.pk,
            idempotency_key=attempt_key(f"transfer-{transfer.pk}", transfer.refusals),
        )
    except (gateway.GatewayRejected, gateway.CardDeclined) as exc:
        with transaction.atomic():
            transfer, _ = transition(
                Transfer,
                transfer.pk,
                Transfer.Status.FAILED,
                changes={"failure_message": str(exc)[:1000], "refusals": transfer.refusals + 1},
            )
            order_flag(order_id=transfer.payment.order_id, reason=f"Transfer refused: {exc}")
        MONEY_OPERATIONS.labels("transfer", "failed").inc()
        return transfer
    MONEY_OPERATIONS.labels("transfer", "succeeded").inc()
    return transfer_record(result) or transfer


def _made_at_stripe(transfer: Transfer) -> dict | None:
    """Our row's transfer among the checkout group's at Stripe, if it was made."""
    claimed = str(transfer.pk)
    return next(
        (
            made
            for made in gateway.transfer_list(transfer_group=transfer.transfer_group)
            if (made.get("metadata") or {}).get("transfer_id") == claimed
        ),
        None,
    )


def transfer_record(stripe_transfer: dict) -> Transfer | None:
    """Record that Stripe made one of our transfers (the task's answer, or the
    transfer.created webhook, whichever comes first): found by the row id in its
    metadata, only when it is the transfer that row asked for."""
    claimed = str((stripe_transfer.get("metadata") or {}).get("transfer_id") or "")
    if not claimed.isdigit():
        return None
    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().filter(pk=int(claimed)).first()
        if transfer is None:
            return None
        asked = (transfer.amount, transfer.destination_account, transfer.source_charge)
        made = (
            stripe_transfer.get("amount"),
            stripe_transfer.get("destination"),
            stripe_transfer.get("source_transaction"),
        )
        if asked != made or transfer.stripe_transfer_id not in (None, "", stripe_transfer["id"]):
            logger.warning("Transfer %s claims our transfer %s", stripe_transfer["id"], claimed)
            return transfer
        transition_locked(
            transfer,
            Transfer.Status.SUCCEEDED,
            changes={"stripe_transfer_id": stripe_transfer["id"]},
            may_be_late=True,
        )
        # Where debits and staff look for the transfer that paid the order.
        Payment.objects.filter(pk=transfer.payment_id, stripe_transfer_id="").update(
            stripe_transfer_id=stripe_transfer["id"]
        )
    return transfer


def taken_back(transfer: Transfer) -> int:
    """What reversals (for refunds and disputes, and debits of the order) took or
    will take."""
    reversed_for_refunds = (
        transfer.reversals.filter(status__in=LIVE_REVERSALS).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    debited = (
        ContractorDebit.objects.filter(
            order_id=transfer.payment.order_id, method=ContractorDebit.Method.TRANSFER_REVERSAL
        )
        .exclude(status=ContractorDebit.Status.FAILED)
        .aggregate(total=Sum("amount"))["total"]
        or 0
    )
    reversed_for_disputes = (
        DisputeAction.objects.filter(
            payment_id=transfer.payment_id, kind=DisputeAction.Kind.REVERSE_TRANSFER
        )
        .exclude(status__in=[DisputeAction.Status.FAILED, DisputeAction.Status.CANCELED])
        .aggregate(total=Sum("amount"))["total"]
        or 0
    )
    return reversed_for_refunds + reversed_for_disputes + debited


def transfer_held(payment: Payment) -> int:
    """What the contractor still holds of the order's transfer (0 before it is sent)."""
    transfer = Transfer.objects.filter(payment=payment, status=Transfer.Status.SUCCEEDED).first()
    if transfer is None:
        return 0
    return max(0, transfer.amount - taken_back(transfer))


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def reversal_share(payment: Payment, transfer: Transfer, refund: Refund) -> int:
    """The part of `transfer` a refund takes back (see the module's docstring).

    Proportional shares are cumulative, as Stripe computes them for destination
    charges: after refunds totalling R of an order of A, the reversals total
    round_half_up(R × T ÷ A), so partial refunds add up to exactly T.
    """
    captured = payment.amount_captured
    if refund.refund_application_fee and captured:
        earlier = (
            transfer.reversals.filter(
                status__in=LIVE_REVERSALS, refund__refund_application_fee=True
            )
            .exclude(refund=refund)
            .aggregate(total=Sum("refund__amount"))["total"]
            or 0
        )
        share = _half_up((earlier + refund.amount) * transfer.amount, captured) - _half_up(
            earlier * transfer.amount, captured
        )
    else:
        share = refund.amount
    return max(0, min(share, transfer.amount - taken_back(transfer)))


def reversal_for_refund(refund: Refund) -> TransferReversal | None:
    """(Inside refund_apply's transaction, the payment locked) Stripe refunded the
    buyer part of an order of a checkout's charge: take the contractor's share back
    from their transfer, as a pending row a task sends. Once per refund."""
    from payments.tasks import transfer_reversal_execute_task

    payment = refund.payment
    if not (payment.shares_intent and refund.reverse_transfer):
        return None
    transfer = Transfer.objects.filter(payment=payment).exclude(status=Transfer.Status.FAILED)
    found = transfer.first()
    if found is None or TransferReversal.objects.filter(refund=refund).exists():
        return None
    amount = reversal_share(payment, found, refund)
    if amount <= 0:
        return None
    reversal = TransferReversal.objects.create(
        transfer=found,
        refund=refund,
        amount=amount,
        currency=found.currency,
        **outbox.first_dispatch(),
    )
    outbox.enqueue_on_commit(transfer_reversal_execute_task, reversal.pk)
    return reversal


def reversal_execute(*, reversal_id: int) -> TransferReversal:
    """Send a pending reversal to Stripe, keyed by its row.

    It waits (NotYet) while the transfer is not sent yet, and while the contractor's
    available balance cannot cover it: Stripe reverses a transfer of separate charges
    only from what the account has (the money of a fresh transfer is still pending).
    Any other refusal marks it failed and flags the order.
    """
    from .intents import order_flag

    reversal = TransferReversal.objects.select_related("transfer__payment").get(pk=reversal_id)
    if reversal.status != TransferReversal.Status.PENDING:
        return reversal
    transfer = reversal.transfer
    if not transfer.stripe_transfer_id:
        if transfer.status != Transfer.Status.FAILED:
            raise NotYet(f"transfer #{transfer.pk} is not sent yet")
        return _reversal_failed(reversal, "The transfer was never made: nothing to take back.")
    try:
        result = gateway.transfer_reversal_create(
            transfer=transfer.stripe_transfer_id,
            amount=reversal.amount,
            reversal_id=reversal.pk,
            idempotency_key=attempt_key(f"reversal-{reversal.pk}", reversal.refusals),
        )
    except gateway.GatewayRejected as exc:
        if exc.code == "balance_insufficient":
            TransferReversal.objects.filter(pk=reversal.pk).update(refusals=F("refusals") + 1)
            raise NotYet(f"the contractor's balance cannot cover it yet: {exc}") from exc
        TransferReversal.objects.filter(pk=reversal.pk).update(refusals=F("refusals") + 1)
        reversal = _reversal_failed(reversal, str(exc))
        with transaction.atomic():
            order_flag(order_id=transfer.payment.order_id, reason=f"Reversal refused: {exc}")
        return reversal
    MONEY_OPERATIONS.labels("reversal", "succeeded").inc()
    with transaction.atomic():
        reversal, _ = transition(
            TransferReversal,
            reversal.pk,
            TransferReversal.Status.SUCCEEDED,
            changes={"stripe_reversal_id": result["id"]},
        )
    return reversal


def _reversal_failed(reversal: TransferReversal, why: str) -> TransferReversal:
    MONEY_OPERATIONS.labels("reversal", "failed").inc()
    with transaction.atomic():
        reversal, _ = transition(
            TransferReversal,
            reversal.pk,
            TransferReversal.Status.FAILED,
            changes={"failure_message": why[:1000]},
        )
    return reversal
