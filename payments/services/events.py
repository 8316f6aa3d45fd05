"""Webhook events: store once, process through the handler registry, retry, sweep."""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.models import StripeEvent
from payments.webhooks.registry import handler_for

logger = logging.getLogger(__name__)

# Events older than this and still unprocessed are re-enqueued by the sweeper.
SWEEP_AFTER = timedelta(minutes=2)
MAX_ATTEMPTS = 10


def event_store(*, event: dict, endpoint: str) -> tuple[StripeEvent, bool]:
    """Store a verified event once; returns (row, created).

    A second delivery of the same id (even a concurrent one) finds the first row
    and is not an error. Processing is enqueued only when this call created the
    row, and only after the row is committed.
    """
    from payments.tasks import event_process_task

    stored = StripeEvent(
        stripe_id=event["id"],
        type=event["type"],
        endpoint=endpoint,
        account=event.get("account") or "",
        livemode=bool(event.get("livemode")),
        payload=event,
    )
    # Insert without reading first: a duplicate is the exception, and the unique index
    # on stripe_id refuses it (IntegrityError), a concurrent one too. Outside a
    # transaction the INSERT is a transaction of its own, committed when it returns:
    # one round trip instead of BEGIN, SELECT, SAVEPOINT, INSERT, RELEASE, COMMIT
    # (bench/README.md). Inside a caller's transaction a savepoint keeps a duplicate
    # from spoiling it.
    try:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():
                stored.save(force_insert=True)
        else:
            stored.save(force_insert=True)
    except IntegrityError:
        return StripeEvent.objects.get(stripe_id=event["id"]), False
    # Runs now when the INSERT committed on its own, else when the caller's transaction does.
    transaction.on_commit(lambda: event_process_task.delay(stored.pk))
    return stored, True


def _finish(event_id: int, status: str, error: str = "") -> None:
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().get(pk=event_id)
        event.status = status
        event.attempts += 1
        event.last_error = error[:4000]
        fields = ["status", "attempts", "last_error"]
        if status != StripeEvent.Status.FAILED:
            event.processed_at = timezone.now()
            fields.append("processed_at")
        event.save(update_fields=fields)


def event_process(*, event_id: int, replay: bool = False) -> str:
    """Run the handler registered for the event's type; returns the new status.

    Handlers are idempotent, so a replay or a duplicate run changes nothing twice.
    A handler's exception is recorded (attempts, last error) and re-raised so the
    task can retry with backoff.
    """
    event = StripeEvent.objects.get(pk=event_id)
    if event.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED) and not replay:
        return event.status
    handler = handler_for(event.type)
    if handler is None:
        _finish(event.pk, StripeEvent.Status.IGNORED)
        return StripeEvent.Status.IGNORED
    try:
        handler(event.payload)
    except Exception as exc:
        _finish(event.pk, StripeEvent.Status.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    _finish(event.pk, StripeEvent.Status.PROCESSED)
    return StripeEvent.Status.PROCESSED


def events_sweep(*, now=None) -> int:
    """Re-enqueue events left unprocessed (lost task, worker crash); returns how many."""
    from payments.tasks import event_process_task

    now = now or timezone.now()
    stuck = StripeEvent.objects.filter(
        status__in=[StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED],
        received_at__lt=now - SWEEP_AFTER,
        attempts__lt=MAX_ATTEMPTS,
    ).values_list("pk", flat=True)[:500]
    count = 0
    for event_id in stuck:
        event_process_task.delay(event_id)
        count += 1
    return count
