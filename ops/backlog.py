"""Work that should have happened by now: what `payments_health` alerts on and what
/metrics reports as gauges. Read-only, a handful of indexed queries.

A fulfilled order is captured by a task within seconds, a requested refund is sent
within seconds, a stored webhook is processed within a second, and the outbox
(core/outbox.py) brings each back within seconds of a fault clearing: each is
"overdue" after HEALTH_OVERDUE_SECONDS (payments/services/stranded.py). An
authorisation is "expiring" inside HEALTH_EXPIRY_WARNING_HOURS of its capture_before;
a payout "failed" within the last 7 days.
"""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from payments import dispatch
from payments.models import Payout, StripeEvent
from payments.services import stranded
from payments.services.reconcile import LAST_RUN_KEY

# The dispatcher runs every OUTBOX_DISPATCH_SECONDS (5); a minute of silence is beat
# (or every worker) gone.
DISPATCHER_LATE_SECONDS = 60


def _age_seconds(oldest, now) -> float:
    return round((now - oldest).total_seconds(), 1) if oldest else 0.0


def backlog(*, now=None) -> dict[str, tuple[str, float]]:
    """{name: (description, value)} for every backlog measure."""
    now = now or timezone.now()
    unprocessed = StripeEvent.objects.filter(
        status__in=[StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED]
    )
    oldest = unprocessed.order_by("received_at").values_list("received_at", flat=True).first()
    return {
        "webhook_events_unprocessed": (
            "Webhook events stored and still not processed after HEALTH_OVERDUE_SECONDS",
            stranded.events_unprocessed(now).count(),
        ),
        "webhook_oldest_unprocessed_seconds": (
            "Age of the oldest unprocessed webhook event",
            _age_seconds(oldest, now),
        ),
        "captures_overdue": (
            "Orders fulfilled and still not captured after HEALTH_OVERDUE_SECONDS",
            stranded.captures_overdue(now).count(),
        ),
        "cancellations_overdue": (
            "Authorisations whose release was asked and not sent after HEALTH_OVERDUE_SECONDS",
            stranded.cancellations_overdue(now).count(),
        ),
        "refunds_unsent": (
            "Refunds requested and still not sent to Stripe after HEALTH_OVERDUE_SECONDS",
            stranded.refunds_unsent(now).count(),
        ),
        "transfers_unsent": (
            "Contractors' transfers due and still not sent after HEALTH_OVERDUE_SECONDS",
            stranded.transfers_unsent(now).count(),
        ),
        "transfer_reversals_unsent": (
            "Transfer reversals due and still not sent after HEALTH_OVERDUE_SECONDS",
            stranded.reversals_unsent(now).count(),
        ),
        "debits_unsent": (
            "Contractor debits created and still not sent after HEALTH_OVERDUE_SECONDS",
            stranded.debits_unsent(now).count(),
        ),
        "outbox_given_up": (
            "Operations the dispatcher stopped retrying: retry them from admin",
            sum(dispatch.stranded().values()),
        ),
        "outbox_dispatcher_late": (
            "1 when the outbox dispatcher (Celery beat) has not run for"
            " DISPATCHER_LATE_SECONDS or ever: nothing lost is handed out again",
            int(not 0 <= dispatch.dispatcher_silent_seconds() <= DISPATCHER_LATE_SECONDS),
        ),
        "authorisations_expiring": (
            "Authorised payments within HEALTH_EXPIRY_WARNING_HOURS of capture_before",
            stranded.authorisations_expiring(now).count(),
        ),
        "payouts_failed_recent": (
            "Contractors' payouts that failed in the last 7 days",
            Payout.objects.filter(status="failed", updated_at__gte=now - timedelta(days=7)).count(),
        ),
        "reconcile_mismatches_last_run": (
            "Mismatches found by the last reconciliation (-1: none has run)",
            cache.get(LAST_RUN_KEY, -1),
        ),
        "celery_queue_depth": (
            "Messages waiting in the default Celery queue (-1: unknown for this broker)",
            queue_depth(),
        ),
    }


def queue_depth() -> int:
    """Messages waiting in the default queue on Redis; -1 for other brokers."""
    from config.celery import app

    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return -1
    try:
        with app.connection_for_read() as connection:
            client = connection.default_channel.client
            return int(client.llen(app.conf.task_default_queue))
    except Exception:  # noqa: BLE001 - a broker outage is readyz's to report, not ours
        return -1


# What `payments_health` treats as a problem (the depth of a queue is only reported).
ALERTS = (
    "webhook_events_unprocessed",
    "captures_overdue",
    "cancellations_overdue",
    "refunds_unsent",
    "transfers_unsent",
    "transfer_reversals_unsent",
    "debits_unsent",
    "outbox_given_up",
    "outbox_dispatcher_late",
    "authorisations_expiring",
    "payouts_failed_recent",
)
