"""Asynchronous webhook delivery with retries, duplicates and reordering.

Events are queued by the sandbox while it holds its lock and handed to the
:class:`Dispatcher`, which runs on the server's event loop. One worker sends
deliveries in order (so with no switch set, a receiver sees events in the order
they happened); a failed attempt (non-2xx, connection error, timeout) is
retried after ``retry_base * 2**(attempt-1)`` seconds, up to ``max_attempts``.

Test switches: ``duplicate`` sends every delivery twice; ``reorder`` gathers
what arrives within ``reorder_window`` seconds and sends it newest first.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .signing import signature_header


@dataclass
class Target:
    """Where an event goes: a URL, its signing secret and a label for the log."""

    url: str
    secret: str = field(repr=False)  # never in a log line or a traceback's repr
    label: str
    # A registered endpoint's API version; None: the account's default.
    api_version: str | None = None


@dataclass
class Delivery:
    event_id: str
    event_type: str
    payload: bytes
    target: Target
    attempt: int = 0
    copy: int = 0
    generation: int = 0


@dataclass
class Switches:
    duplicate: bool = False
    reorder: bool = False

    def as_dict(self) -> dict[str, bool]:
        return {"duplicate": self.duplicate, "reorder": self.reorder}


@dataclass
class DeliveryLog:
    """Every attempt, newest last (bounded)."""

    entries: collections.deque = field(default_factory=lambda: collections.deque(maxlen=20_000))

    def add(self, **entry: Any) -> None:
        self.entries.append(entry)


class Dispatcher:
    """Owns the delivery queue; all methods except :meth:`submit` run on the loop."""

    def __init__(
        self,
        *,
        retry_base: float,
        max_attempts: int,
        timeout: float,
        reorder_window: float,
        on_delivered: Callable[[str], None],
    ) -> None:
        self.retry_base = retry_base
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.reorder_window = reorder_window
        self.on_delivered = on_delivered
        self.switches = Switches()
        self.log = DeliveryLog()
        self._inbox: collections.deque[Delivery] = collections.deque()
        self._queue: asyncio.Queue[Delivery] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._generation = 0
        self._sending = 0

    # --- any thread -----------------------------------------------------------

    def submit(self, deliveries: list[Delivery]) -> None:
        """Queue deliveries (called with the sandbox lock held) and wake the worker."""
        if not deliveries:
            return
        for delivery in deliveries:
            delivery.generation = self._generation
        self._inbox.extend(deliveries)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake_up)

    @property
    def idle(self) -> bool:
        """Nothing waiting, scheduled for a retry or being sent (read from any thread:
        a snapshot, good enough to tell a settled sandbox from a busy one)."""
        queued = self._queue.qsize() if self._queue is not None else 0
        return not (self._inbox or queued or self._timers or self._sending)

    def cancel_all(self) -> None:
        """Forget queued and scheduled deliveries (state reset)."""
        self._generation += 1
        self._inbox.clear()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._drop_queued)

    # --- loop side -------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._wake = asyncio.Event()
        self._client = httpx.AsyncClient(timeout=self.timeout)
        self._tasks = [
            asyncio.create_task(self._gather(), name="webhook-gather"),
            asyncio.create_task(self._send_loop(), name="webhook-send"),
        ]
        if self._inbox:
            self._wake.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for timer in self._timers:
            timer.cancel()
        await self._client.aclose()
        self._loop = None

    def _wake_up(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _drop_queued(self) -> None:
        if self._queue is None:
            return
        while not self._queue.empty():
            self._queue.get_nowait()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    async def _gather(self) -> None:
        assert self._wake is not None
        assert self._queue is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.switches.reorder:
                await asyncio.sleep(self.reorder_window)
            batch = []
            while self._inbox:
                batch.append(self._inbox.popleft())
            if self.switches.reorder:
                batch.reverse()
            for delivery in batch:
                self._queue.put_nowait(delivery)
                if self.switches.duplicate:
                    self._queue.put_nowait(
                        Delivery(
                            delivery.event_id,
                            delivery.event_type,
                            delivery.payload,
                            delivery.target,
                            copy=1,
                            generation=delivery.generation,
                        )
                    )

    async def _send_loop(self) -> None:
        assert self._queue is not None
        while True:
            delivery = await self._queue.get()
            if delivery.generation == self._generation:
                self._sending += 1
                try:
                    await self._send(delivery, delivery.generation)
                finally:
                    self._sending -= 1

    async def _send(self, delivery: Delivery, generation: int) -> None:
        delivery.attempt += 1
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signature_header(
                delivery.payload, delivery.target.secret, timestamp
            ),
        }
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(
                delivery.target.url, content=delivery.payload, headers=headers
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        if generation != self._generation:
            return  # the sandbox was reset while this was in flight: forget it
        self.log.add(
            event_id=delivery.event_id,
            type=delivery.event_type,
            url=delivery.target.url,
            target=delivery.target.label,
            attempt=delivery.attempt,
            duplicate=bool(delivery.copy),
            status=status,
            error=error,
            ok=ok,
            at=time.time(),
            duration_ms=round((time.monotonic() - started) * 1000, 2),
        )
        if ok:
            if not delivery.copy:
                self.on_delivered(delivery.event_id)
            return
        if delivery.attempt >= self.max_attempts or generation != self._generation:
            return
        delay = self.retry_base * 2 ** (delivery.attempt - 1)
        assert self._loop is not None
        timer: asyncio.TimerHandle | None = None

        def requeue() -> None:
            self._timers.discard(timer)  # type: ignore[arg-type]
            if generation == self._generation and self._queue is not None:
                self._queue.put_nowait(delivery)

        timer = self._loop.call_later(delay, requeue)
        self._timers.add(timer)
