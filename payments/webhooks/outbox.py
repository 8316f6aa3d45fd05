"""Stored webhook events go to Celery in small batches, not one message each.

Publishing a Celery message costs the web process about 0.4 ms of CPU, more than
verifying and storing the event, and a worker spends about 1 ms per task on
Celery's own bookkeeping. So once an event's row is committed its id goes into
this process's outbox, and a background thread publishes everything that gathered
within `WEBHOOK_ENQUEUE_WINDOW_MS` (or `WEBHOOK_ENQUEUE_BATCH` ids, whichever
comes first) as one `event_batch_process_task`.

Nothing is lost with an id that never leaves the outbox (the process killed
before the flush, the broker down): the row is stored and unprocessed, and the
sweeper re-enqueues it. A window of 0, or Celery in eager mode, sends each id at
once from the calling thread.
"""

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

from django.conf import settings

logger = logging.getLogger(__name__)


class Outbox:
    def __init__(self, send: Callable[[list[int]], None]) -> None:
        self._send = send
        self._reset()
        # A forked child (a gunicorn worker) starts empty, with its own lock and thread;
        # the parent's ids are the parent's to send.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._ids: list[int] = []
        self._sending = 0
        self._changed = threading.Condition()
        self._thread_started = False

    @property
    def pending(self) -> int:
        """Ids waiting or being published."""
        return len(self._ids) + self._sending

    def add(self, event_id: int) -> None:
        window, batch = _window_seconds(), settings.WEBHOOK_ENQUEUE_BATCH
        if window <= 0 or _celery_is_eager():
            self._publish([event_id])
            return
        with self._changed:
            if not self._thread_started:
                self._thread_started = True
                threading.Thread(target=self._drain, name="webhook-outbox", daemon=True).start()
            self._ids.append(event_id)
            if len(self._ids) == 1 or len(self._ids) >= batch:
                self._changed.notify()

    def flush(self) -> None:
        """Publish whatever is waiting, now (at exit, and in tests)."""
        with self._changed:
            ids, self._ids = self._ids, []
            self._sending += len(ids)
        if ids:
            self._publish(ids)
            with self._changed:
                self._sending -= len(ids)

    def _drain(self) -> None:
        while True:
            with self._changed:
                while not self._ids:
                    self._changed.wait()
                # Gather for one window from the first id, unless a batch fills first.
                deadline = time.monotonic() + _window_seconds()
                while len(self._ids) < settings.WEBHOOK_ENQUEUE_BATCH:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._changed.wait(remaining)
                ids = self._ids[: settings.WEBHOOK_ENQUEUE_BATCH]
                del self._ids[: len(ids)]
                self._sending += len(ids)
            try:
                self._publish(ids)
            finally:
                with self._changed:
                    self._sending -= len(ids)

    def _publish(self, ids: list[int]) -> None:
        try:
            self._send(ids)
        except Exception:
            # The events are stored; the sweeper re-enqueues them. Never fail a request here.
            logger.exception("Could not enqueue webhook events %s; the sweeper will.", ids)


def _window_seconds() -> float:
    return settings.WEBHOOK_ENQUEUE_WINDOW_MS / 1000


def _celery_is_eager() -> bool:
    from config.celery import app

    return bool(app.conf.task_always_eager)


def _send_batch(ids: list[int]) -> None:
    from payments.tasks import event_batch_process_task

    event_batch_process_task.delay(ids)


outbox = Outbox(_send_batch)
atexit.register(outbox.flush)
