"""The database is the outbox: work that must reach Stripe is a row, not a message.

A row whose status says "to do" (a refund *requested*, a payment to capture, an event
*received*) carries `due_at`, when it should next be handed to a worker, and
`dispatches`, how many times it was. Publishing a Celery message is only the fast
path: the request that created the row publishes once its transaction commits, and a
failed publish is logged, never an error page. The dispatcher (Celery beat, every
OUTBOX_DISPATCH_SECONDS) hands every overdue row to a worker again. So a broker
outage, a killed worker, a lost message or a database restart delays the work, and
nothing is lost:

- handing a row out pushes its `due_at` OUTBOX_LEASE_SECONDS ahead: if the worker
  dies, the row is overdue again after the lease and goes to another worker;
- a task that fails for a passing reason (Stripe unreachable, the database
  restarting) sets `due_at` after a backoff instead of asking Celery for a countdown
  retry (which Redis would hold, unacknowledged, for the visibility timeout);
- work finished changes the row's status, which takes it out of the "to do" filter.

A row handed out twice runs twice at most one at a time (`exclusive`), and the
services' idempotency keys make a second run harmless.
"""

import logging
import random
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.commit import _named
from core.metrics import OUTBOX_DISPATCHED, OUTBOX_ENQUEUE_FAILED

logger = logging.getLogger(__name__)

# After this many hand-outs a row is left alone and reported as stranded (about a day
# and a half of backoff): staff look at it and retry it from admin.
MAX_DISPATCHES = 25
# The longest wait between two tries of a failing operation.
MAX_BACKOFF_SECONDS = 600


class OutboxRow(models.Model):
    """The two columns the dispatcher needs, for any model with work to hand out."""

    due_at = models.DateTimeField(
        null=True, blank=True, help_text="When the dispatcher hands this work out next."
    )
    dispatches = models.PositiveIntegerField(
        default=0, help_text="How many times this work was handed to a worker."
    )

    class Meta:
        abstract = True


def lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def first_dispatch(now: datetime | None = None) -> dict[str, Any]:
    """Fields for a row whose work is handed out now, by the request that made it."""
    return {"due_at": (now or timezone.now()) + lease(), "dispatches": 1}


def backoff(dispatches: int) -> timedelta:
    """Wait before the next try after `dispatches` failed ones: 2, 4, 8 … 600 s, ±20 %."""
    seconds = min(2 ** max(dispatches, 1), MAX_BACKOFF_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def enqueue(task: Any, *args: Any) -> bool:
    """Publish `task(*args)`; False (logged and counted) when the broker refused.

    Never raises: the row is the record of the work, and the dispatcher publishes
    it again once it is due.
    """
    try:
        task.delay(*args)
    except Exception:
        OUTBOX_ENQUEUE_FAILED.labels(task.name).inc()
        logger.warning(
            "Could not enqueue %s%r; the dispatcher will.", task.name, args, exc_info=True
        )
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """`enqueue` once the current transaction commits (at once outside one)."""
    transaction.on_commit(_named(enqueue, task, *args))


@dataclass(frozen=True)
class Kind:
    """One kind of work: which rows of `model` are to do, and the task that does one."""

    name: str
    model: type[models.Model]
    to_do: Q
    task: Any
    args: Callable[[Any], tuple] = lambda row: (row.pk,)
    fields: tuple[str, ...] = ()  # read from the row for `args`

    def overdue(self, now: datetime) -> models.QuerySet:
        return self.model._default_manager.filter(
            self.to_do, due_at__lte=now, dispatches__lt=MAX_DISPATCHES
        )

    def stranded(self) -> models.QuerySet:
        """Rows the dispatcher gave up on: they need a person."""
        return self.model._default_manager.filter(self.to_do, dispatches__gte=MAX_DISPATCHES)


def dispatch(kinds: list[Kind], *, now: datetime | None = None, batch: int = 200) -> dict:
    """Hand every overdue row of each kind to a worker; returns {kind: count}.

    Rows are claimed with SKIP LOCKED on PostgreSQL, so two dispatchers (or a
    dispatcher and a service holding a row) never wait on each other, and each claim
    moves `due_at` a lease (or a backoff) ahead before the message is published.
    """
    now = now or timezone.now()
    handed: dict[str, int] = {}
    for kind in kinds:
        with transaction.atomic():
            rows = list(
                kind.overdue(now)
                .select_for_update(skip_locked=True)
                .order_by("due_at")
                .only("pk", "dispatches", *kind.fields)[:batch]
            )
            _claim(kind.model, rows, now)
            for row in rows:
                enqueue_on_commit(kind.task, *kind.args(row))
        if rows:
            OUTBOX_DISPATCHED.labels(kind.name).inc(len(rows))
            logger.info("Dispatched %d overdue %s", len(rows), kind.name)
        handed[kind.name] = len(rows)
    return handed


def _claim(model: type[models.Model], rows: list, now: datetime) -> None:
    """Push each row's `due_at` a lease ahead, or further for rows that keep coming
    back (a worker that dies on them): one UPDATE per distinct wait."""
    by_wait: dict[timedelta, list[int]] = defaultdict(list)
    for row in rows:
        wait = max(lease(), backoff(row.dispatches)) if row.dispatches > 2 else lease()
        by_wait[wait].append(row.pk)
    for wait, pks in by_wait.items():
        model._default_manager.filter(pk__in=pks).update(
            due_at=now + wait, dispatches=F("dispatches") + 1
        )


def retry_later(model: type[models.Model], pk: int, reason: BaseException) -> None:
    """A try failed for a passing reason: make the row due again after a backoff.

    When the database itself is the problem this cannot be recorded; the lease set
    when the row was handed out brings it back anyway.
    """
    try:
        dispatches = (
            model._default_manager.filter(pk=pk).values_list("dispatches", flat=True).first()
        )
        if dispatches is not None:
            due = timezone.now() + backoff(dispatches)
            model._default_manager.filter(pk=pk).update(due_at=due)
    except DatabaseError:
        logger.warning("Could not schedule a retry of %s %s", model.__name__, pk, exc_info=True)
    logger.warning("%s %s will be retried: %r", model.__name__, pk, reason)


def retry_now(model: type[models.Model], pks: list[int]) -> int:
    """Staff's "retry": rows given up on (or waiting) are due at once, with a fresh count."""
    return model._default_manager.filter(pk__in=pks).update(due_at=timezone.now(), dispatches=0)


@contextmanager
def exclusive(name: str, pk: int) -> Iterator[bool]:
    """Yields whether this process is the only one doing `name` for row `pk`.

    A PostgreSQL session advisory lock: it is not a transaction nor a row lock (so
    Stripe may be called while it is held), and it goes away with the connection
    of a worker that dies. Elsewhere (SQLite: one worker) always True.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = (zlib.crc32(name.encode()) & 0x7FFFFFFF, pk & 0x7FFFFFFF)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        mine = cursor.fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
            except DatabaseError:
                pass  # the connection broke: the lock went with it
