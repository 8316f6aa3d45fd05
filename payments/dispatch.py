"""What the dispatcher hands out (core/outbox.py): every kind of work that must
reach Stripe, as the rows whose status says it is still to do."""

import time

from django.core.cache import cache
from django.db.models import Q

from accounts.models import CustomerEmailSync
from core import outbox
from payments.models import (
    ContractorDebit,
    DisputeAction,
    Payment,
    PayoutRequest,
    Refund,
    StripeEvent,
    Transfer,
    TransferReversal,
)
from payments.services.events import MAX_ATTEMPTS


def kinds() -> list[outbox.Kind]:
    from payments import tasks

    return [
        outbox.Kind(
            "captures",
            Payment,
            Q(action=Payment.Action.CAPTURE, status=Payment.Status.AUTHORIZED),
            tasks.payment_capture_task,
        ),
        outbox.Kind(
            "cancellations",
            Payment,
            Q(
                action=Payment.Action.CANCEL,
                status__in=[
                    Payment.Status.PENDING,
                    Payment.Status.REQUIRES_ACTION,
                    Payment.Status.AUTHORIZED,
                ],
            ),
            tasks.payment_cancel_task,
        ),
        outbox.Kind(
            "refunds", Refund, Q(status=Refund.Status.REQUESTED), tasks.refund_execute_task
        ),
        outbox.Kind(
            "transfers",
            Transfer,
            Q(status=Transfer.Status.PENDING),
            tasks.transfer_execute_task,
        ),
        outbox.Kind(
            "transfer reversals",
            TransferReversal,
            Q(status=TransferReversal.Status.PENDING),
            tasks.transfer_reversal_execute_task,
        ),
        outbox.Kind(
            "debits",
            ContractorDebit,
            Q(status=ContractorDebit.Status.PENDING),
            tasks.debit_execute_task,
        ),
        outbox.Kind(
            "dispute actions",
            DisputeAction,
            Q(status=DisputeAction.Status.PENDING),
            tasks.dispute_action_execute_task,
        ),
        outbox.Kind(
            "customer emails",
            CustomerEmailSync,
            Q(status=CustomerEmailSync.Status.PENDING),
            tasks.customer_email_sync_task,
        ),
        outbox.Kind(
            "payout requests",
            PayoutRequest,
            Q(status=PayoutRequest.Status.REQUESTED),
            tasks.payout_request_execute_task,
        ),
        outbox.Kind(
            "webhook events",
            StripeEvent,
            Q(
                status__in=[StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED],
                attempts__lt=MAX_ATTEMPTS,
            ),
            tasks.event_process_task,
        ),
    ]


# When the dispatcher last ran (epoch seconds): without beat nothing lost comes back,
# so payments_health and /metrics report a silent dispatcher.
LAST_DISPATCH_KEY = "outbox:last-dispatch"


def dispatch_overdue() -> dict[str, int]:
    """Hand every overdue row to a worker; {kind: how many}."""
    handed = outbox.dispatch(kinds())
    cache.set(LAST_DISPATCH_KEY, time.time(), None)
    return handed


def dispatcher_silent_seconds() -> float:
    """Seconds since the dispatcher last ran (-1: it never has, in this cache)."""
    last = cache.get(LAST_DISPATCH_KEY)
    return -1.0 if last is None else round(time.time() - last, 1)


def stranded() -> dict[str, int]:
    """{kind: rows the dispatcher gave up on}: each needs a person (retry from admin)."""
    counts = {kind.name: kind.stranded().count() for kind in kinds()}
    counts["webhook events"] += StripeEvent.objects.filter(
        status=StripeEvent.Status.FAILED, attempts__gte=MAX_ATTEMPTS
    ).count()
    return counts
