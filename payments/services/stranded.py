"""Work that should have reached Stripe by now and has not: what `reconcile` lists and
`payments_health` counts (ops/backlog.py). Read-only, from our own rows.

Normally the outbox (core/outbox.py) finishes every operation within seconds of its
request, or of a fault clearing; anything older than HEALTH_OVERDUE_SECONDS is
reported, as is anything the dispatcher gave up on and every authorisation close to
Stripe's capture_before.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from payments.models import (
    ContractorDebit,
    Dispute,
    Payment,
    Refund,
    StripeEvent,
    Transfer,
    TransferReversal,
)


@dataclass(frozen=True)
class Stranded:
    kind: str  # capture, cancellation, refund, transfer, reversal, debit, webhook event, …
    ours: str
    stripe_id: str
    what: str
    since: datetime

    def age(self, now: datetime) -> str:
        minutes = int((now - self.since).total_seconds() // 60)
        return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def overdue_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.HEALTH_OVERDUE_SECONDS)


def captures_overdue(now: datetime) -> QuerySet:
    """Fulfilled orders' payments still not captured (asked before the overdue line)."""
    return Payment.objects.filter(
        status=Payment.Status.AUTHORIZED,
        order__status="fulfilled",
        order__updated_at__lt=overdue_before(now),
    )


def cancellations_overdue(now: datetime) -> QuerySet:
    return Payment.objects.filter(
        action=Payment.Action.CANCEL,
        status__in=[Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION, "authorized"],
        updated_at__lt=overdue_before(now),
    )


def refunds_unsent(now: datetime) -> QuerySet:
    return Refund.objects.filter(status=Refund.Status.REQUESTED, created_at__lt=overdue_before(now))


def transfers_unsent(now: datetime) -> QuerySet:
    """Contractors' transfers for fulfilled orders not made yet (counted from when
    they were last asked for), and transfers still on hold though no dispute of
    their charge is open any more (one on hold for an open dispute may wait weeks)."""
    still_disputed = Dispute.objects.filter(stripe_charge_id=OuterRef("source_charge")).exclude(
        status__in=Dispute.CLOSED
    )
    held_for_nothing = Q(status=Transfer.Status.ON_HOLD) & ~Exists(still_disputed)
    return Transfer.objects.filter(
        Q(status=Transfer.Status.PENDING) | held_for_nothing, updated_at__lt=overdue_before(now)
    )


def reversals_unsent(now: datetime) -> QuerySet:
    """Reversals for refunds not made yet (a contractor's balance may still be pending)."""
    return TransferReversal.objects.filter(
        status=TransferReversal.Status.PENDING, created_at__lt=overdue_before(now)
    )


def debits_unsent(now: datetime) -> QuerySet:
    return ContractorDebit.objects.filter(
        status=ContractorDebit.Status.PENDING, created_at__lt=overdue_before(now)
    )


def events_unprocessed(now: datetime) -> QuerySet:
    return StripeEvent.objects.filter(
        status__in=[StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED],
        received_at__lt=overdue_before(now),
    )


def authorisations_expiring(now: datetime) -> QuerySet:
    return Payment.objects.filter(
        status=Payment.Status.AUTHORIZED,
        capture_before__lt=now + timedelta(hours=settings.HEALTH_EXPIRY_WARNING_HOURS),
    )


def stranded_work(*, now: datetime | None = None) -> Iterator[Stranded]:
    """Each operation overdue, oldest first within its kind."""
    now = now or timezone.now()
    for payment in captures_overdue(now).select_related("order"):
        yield Stranded(
            "capture",
            f"payment #{payment.pk} (order {payment.order.public_id})",
            payment.stripe_payment_intent_id or "",
            "fulfilled, not captured",
            payment.order.updated_at,
        )
    for payment in cancellations_overdue(now):
        yield Stranded(
            "cancellation",
            f"payment #{payment.pk}",
            payment.stripe_payment_intent_id or "",
            "cancellation asked, not sent",
            payment.updated_at,
        )
    for refund in refunds_unsent(now):
        yield Stranded(
            "refund", f"refund #{refund.pk}", "", "requested, not sent", refund.created_at
        )
    for transfer in transfers_unsent(now).select_related("payment__order"):
        yield Stranded(
            "transfer",
            f"transfer #{transfer.pk} (order {transfer.payment.order.public_id})",
            "",
            "order fulfilled, contractor not paid",
            transfer.created_at,
        )
    for reversal in reversals_unsent(now):
        yield Stranded(
            "reversal",
            f"reversal #{reversal.pk} (refund #{reversal.refund_id})",
            "",
            "refunded, contractor's share not taken back",
            reversal.created_at,
        )
    for debit in debits_unsent(now):
        yield Stranded("debit", f"debit #{debit.pk}", "", "created, not sent", debit.created_at)
    for event in events_unprocessed(now).order_by("received_at")[:100]:
        yield Stranded(
            "webhook event", f"event #{event.pk}", event.stripe_id, event.status, event.received_at
        )
    for payment in authorisations_expiring(now).select_related("order"):
        yield Stranded(
            "authorisation",
            f"payment #{payment.pk} (order {payment.order.public_id})",
            payment.stripe_payment_intent_id or "",
            f"not captured; Stripe releases it at {payment.capture_before:%Y-%m-%d %H:%M} UTC",
            payment.authorized_at or payment.created_at,
        )
