"""2. End-to-end: signed events POSTed to gunicorn until each StripeEvent is processed.

A burst of N events is posted as fast as the web server takes them while the Celery
worker(s) drain the queue; the rate is N ÷ (last processed_at − first POST). The
queue depth (Redis `LLEN celery`) and the unprocessed rows are sampled every 0.5 s.
Each event is a `payment_intent.succeeded` for an intent the shop does not know, so
the handler does its lookup under a row lock and changes nothing: the figures are the
pipeline's (web → Redis → worker → handler → status), not a handler's business work.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import redis
from django.db import connection

from . import loadgen, stack

WEBHOOK = "/payments/webhooks/stripe/"


@dataclass
class E2ERun:
    events: int
    seconds: float  # first POST → last processed
    post_seconds: float  # first POST → last 2xx
    processed: int
    series: list[tuple[float, int, int]] = field(default_factory=list)  # (t, LLEN, unprocessed)

    @property
    def rate(self) -> float:
        return self.processed / self.seconds if self.seconds else 0.0

    @property
    def post_rate(self) -> float:
        return self.events / self.post_seconds if self.post_seconds else 0.0


@dataclass
class E2ERow:
    label: str
    pool: str
    runs: list[E2ERun]
    worker_cpu_ms: float  # worker CPU per event (median run)
    memory: dict[str, float]
    drain: list[float]  # events/s draining a queue filled beforehand (workers only)

    @property
    def drain_rate(self) -> float:
        return sorted(self.drain)[len(self.drain) // 2] if self.drain else 0.0

    @property
    def median(self) -> E2ERun:
        return sorted(self.runs, key=lambda r: r.rate)[len(self.runs) // 2]


def _reset(queue: redis.Redis) -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE payments_stripeevent")
    queue.delete("celery")


def _counts() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE status = 'received'), "
            "count(*) FILTER (WHERE status IN ('processed', 'ignored')) FROM payments_stripeevent"
        )
        received, done = cursor.fetchone()
    return received, done


def _wait_processed(target: int, timeout: float, st: stack.Stack | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _counts()[1] >= target:
            return
        if st is not None:
            st.check_alive()
        time.sleep(0.1)
    raise stack.StackError(
        f"only {_counts()[1]} of {target} events processed after {timeout:.0f} s "
        f"(see {stack.VAR_DIR / 'log'})"
    )


def one_run(base: str, *, secret: str, intent: dict, events: int, label: str) -> E2ERun:
    queue = redis.Redis.from_url(stack.REDIS_URL)
    _reset(queue)
    bodies = loadgen.signed_bodies(
        events, secret=secret, prefix=label, event_type="payment_intent.succeeded", obj=intent
    )
    series: list[tuple[float, int, int]] = []
    stop = threading.Event()
    started = time.time()

    def sample() -> None:
        # Its own database connection (Django's are per thread).
        try:
            while not stop.is_set():
                received, _ = _counts()
                series.append((time.time() - started, int(queue.llen("celery")), received))
                stop.wait(0.5)
        finally:
            connection.close()

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        posted = loadgen.python_load(
            base, WEBHOOK, connections=16, seconds=120, bodies=bodies
        )  # exactly N, each once
        post_seconds = time.time() - started
        _wait_processed(events, timeout=max(60, events / 20))
    finally:
        stop.set()
        sampler.join()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), extract(epoch from max(processed_at)) FROM payments_stripeevent "
            "WHERE status IN ('processed', 'ignored')"
        )
        processed, last = cursor.fetchone()
    return E2ERun(
        events=posted.requests,
        seconds=float(last) - started if last else 0.0,
        post_seconds=post_seconds,
        processed=processed,
        series=series,
    )


def drain_run(
    st: stack.Stack,
    base: str,
    *,
    secret: str,
    intent: dict,
    events: int,
    label: str,
    start_workers,
) -> float:
    """The workers' own capacity: `events` queued with no worker running, then the
    workers started; events/s between the 10th and the 90th percentile of
    `processed_at` (leaves out the workers' start-up and the last stragglers)."""
    queue = redis.Redis.from_url(stack.REDIS_URL)
    _reset(queue)
    bodies = loadgen.signed_bodies(
        events, secret=secret, prefix=label, event_type="payment_intent.succeeded", obj=intent
    )
    loadgen.python_load(base, WEBHOOK, connections=16, seconds=120, bodies=bodies)
    workers = start_workers()
    try:
        _wait_processed(events, timeout=max(60, events / 20), st=st)
    finally:
        for worker in workers:
            st.stop(worker)
    low, high = int(events * 0.1), int(events * 0.9)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extract(epoch from processed_at) FROM payments_stripeevent "
            "WHERE status IN ('processed', 'ignored') ORDER BY processed_at"
        )
        times = [float(row[0]) for row in cursor.fetchall()]
    if len(times) <= high or times[high] <= times[low]:
        return 0.0
    return (high - low) / (times[high] - times[low])


def measure(
    st: stack.Stack,
    base: str,
    env: dict[str, str],
    *,
    secret: str,
    intent: dict,
    configs: list[tuple[str, str, int, int]],
    events: int = 2000,
    runs: int = 3,
) -> list[E2ERow]:
    """configs: (label, pool, concurrency, worker instances)."""
    rows = []
    for label, pool, concurrency, instances in configs:

        def start(pool=pool, concurrency=concurrency, instances=instances):
            return [
                st.worker(f"e2e{n}", env, pool=pool, concurrency=concurrency)
                for n in range(instances)
            ]

        drain = [
            drain_run(st, base, secret=secret, intent=intent, events=events,
                      label=f"{label}_drain{run}", start_workers=start)
            for run in range(runs)
        ]  # fmt: skip
        workers = start()
        try:
            # Warm up (and wait for the workers to be consuming).
            one_run(base, secret=secret, intent=intent, events=100, label=f"{label}_warm")
            results, cpu = [], []
            for run in range(runs):
                before = stack.cpu_seconds([w.pid for w in workers])
                result = one_run(
                    base, secret=secret, intent=intent, events=events, label=f"{label}_{run}"
                )
                cpu.append(1000 * (stack.cpu_seconds([w.pid for w in workers]) - before) / events)
                results.append(result)
            memory = {"rss_mib": 0.0, "pss_mib": 0.0, "processes": 0}
            for worker in workers:
                for key, value in stack.memory(worker.pid).items():
                    memory[key] += value
            rows.append(E2ERow(label, pool, results, sorted(cpu)[len(cpu) // 2], memory, drain))
        finally:
            for worker in workers:
                st.stop(worker)
    return rows


def series_text(run: E2ERun, points: int = 24) -> str:
    """`t:messages/events` triples, thinned to about `points`."""
    step = max(1, len(run.series) // points)
    picked = run.series[::step]
    return " ".join(f"{t:.1f}s:{depth}/{waiting}" for t, depth, waiting in picked)
