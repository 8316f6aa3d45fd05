"""Webhook events: store once, process through the handler registry, retry.

A stored event is an outbox row (core/outbox.py): it is due a lease after it
arrived, so the dispatcher processes it if the fast path (payments/webhooks/outbox.py)
never did, and a failed one is due again after a backoff.
"""

import json
import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core import outbox
from core.metrics import WEBHOOK_EVENTS
from core.statemachine import transition_update
from payments.models import StripeEvent
from payments.webhooks.registry import route_for

logger = logging.getLogger(__name__)

# After this many failed tries an event is left for staff to replay from admin.
MAX_ATTEMPTS = 10


def event_store(*, event: dict, endpoint: str, body: str | None = None) -> tuple[int, bool]:
    """Store a verified event once; returns (row id, created).

    `body` is the event as Stripe sent it (already verified and parsed into `event`);
    it is stored as is rather than encoded again. A second delivery of the same id
    (even a concurrent one) finds the first row and is not an error. Processing is
    enqueued only when this call created the row, and only after the row is
    committed (in a batch: payments/webhooks/outbox.py).
    """
    from payments.webhooks.outbox import outbox

    # Insert without reading first: a duplicate is the exception, and the unique index
    # on stripe_id refuses it (IntegrityError), a concurrent one too. Outside a
    # transaction the INSERT is a transaction of its own, committed when it returns:
    # one round trip instead of BEGIN, SELECT, SAVEPOINT, INSERT, RELEASE, COMMIT
    # (bench/README.md). Inside a caller's transaction a savepoint keeps a duplicate
    # from spoiling it.
    try:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():
                event_id = _insert(event, endpoint, body)
        else:
            event_id = _insert(event, endpoint, body)
    except IntegrityError:
        return StripeEvent.objects.values_list("pk", flat=True).get(stripe_id=event["id"]), False
    # Runs now when the INSERT committed on its own, else when the caller's transaction does.
    transaction.on_commit(lambda: outbox.add(event_id))
    return event_id, True


_INSERT_TEXT = (
    "INSERT INTO payments_stripeevent (stripe_id, type, endpoint, account, livemode, payload,"
    " status, received_at, due_at, dispatches, attempts, last_error)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 1, 0, '') RETURNING id"
)
_INSERT_JSONB = _INSERT_TEXT.replace("%s, %s, %s, %s, 1", "%s::jsonb, %s, %s, %s, 1")  # PostgreSQL


def _insert(event: dict, endpoint: str, body: str | None) -> int:
    """INSERT the event's row; returns its id.

    Written out rather than `StripeEvent(...).save()`: this runs for every webhook,
    and the ORM's statement building plus a second JSON encoding of the payload were
    a fifth of the web server's CPU per event (bench/README.md). The columns are the
    model's; tests/payments/test_webhooks.py reads the row back through the model.
    """
    connection = transaction.get_connection()
    payload = body if body is not None else json.dumps(event)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_JSONB if connection.vendor == "postgresql" else _INSERT_TEXT,
            [
                event["id"],
                event["type"],
                endpoint,
                event.get("account") or "",
                bool(event.get("livemode")),
                payload,
                StripeEvent.Status.RECEIVED,
                connection.ops.adapt_datetimefield_value(now),
                # Handed out by the fast path now; the dispatcher's if still here later.
                connection.ops.adapt_datetimefield_value(now + outbox.lease()),
            ],
        )
        return cursor.fetchone()[0]


def _finish(event: StripeEvent, status: str, error: str = "") -> None:
    # One conditional UPDATE (core.statemachine.transition_update), from the statuses
    # StripeEvent.TRANSITIONS allows to move to `status`: it holds the row lock while
    # it runs and counts the attempt in the database, so a replay beside the worker
    # cannot lose one. A locked read and a save cost two more round trips
    # (BEGIN/SELECT … FOR UPDATE/UPDATE/COMMIT; bench/README.md).
    changes = {"attempts": F("attempts") + 1, "last_error": error[:4000]}
    if status == StripeEvent.Status.FAILED:
        changes["due_at"] = timezone.now() + outbox.backoff(event.attempts + 1)
    else:
        changes["processed_at"] = timezone.now()
    WEBHOOK_EVENTS.labels(event.type, status).inc()
    if not transition_update(StripeEvent, event.pk, status, changes=changes):
        logger.warning("Event %s: not moved to %s from its current status.", event.pk, status)


def event_process(*, event_id: int, replay: bool = False) -> str:
    """Run the handler registered for the event's type; returns the new status.

    An event from an endpoint or account that does not own the object it names
    (payments/webhooks/registry.py) is ignored, with the reason in `last_error`,
    and its handler never runs. Handlers are idempotent, so a replay or a duplicate
    run changes nothing twice. A handler's exception is recorded (attempts, last
    error) and re-raised so the task can retry with backoff.
    """
    event = StripeEvent.objects.get(pk=event_id)
    if event.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED) and not replay:
        return event.status
    route = route_for(event.type)
    if route is None:
        _finish(event, StripeEvent.Status.IGNORED, f"ignored: no handler for {event.type}")
        return StripeEvent.Status.IGNORED
    try:
        refusal = route.refusal(event)
        if refusal is None:
            route.handler(event)
    except Exception as exc:
        _finish(event, StripeEvent.Status.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    if refusal is not None:
        logger.warning("Event %s (%s) %s", event.stripe_id, event.type, refusal)
        _finish(event, StripeEvent.Status.IGNORED, refusal)
        return StripeEvent.Status.IGNORED
    _finish(event, StripeEvent.Status.PROCESSED)
    return StripeEvent.Status.PROCESSED
