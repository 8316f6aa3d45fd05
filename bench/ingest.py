"""1. Webhook ingest: signed events/s and latency, beside a bare Django view.

Both go through the same gunicorn, WSGI handler and middleware in the same run, one
after the other at each connection count (bare, webhook, bare, webhook, ...), so
noise from the shared machine lands on both. No Celery worker runs meanwhile: the
events queue up in Redis (cleared after each run) and the web server has the two
cores to itself, bar PostgreSQL, Redis and the load generator.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import redis

from . import loadgen, stack

WEBHOOK = "/payments/webhooks/stripe/"
BARE = "/_bench/bare/"
# Bodies per second of a run, generously above what two cores can ingest, so no body
# is sent twice (the Lua script stops a connection that runs out and says so).
BODIES_PER_SECOND = 4000


@dataclass
class IngestRow:
    connections: int
    webhook: loadgen.Load
    bare: loadgen.Load
    web_cpu_ms: float  # gunicorn CPU per webhook event (median of the runs)
    db_cpu_ms: float  # PostgreSQL backends' CPU per webhook event
    bare_cpu_ms: float  # gunicorn CPU per bare request

    @property
    def ratio(self) -> float:
        return self.webhook.rps / self.bare.rps if self.bare.rps else 0.0


def _cpu_per_request(pids: list[int], run) -> tuple[loadgen.Load, float]:
    before = stack.cpu_seconds(pids)
    result = run()
    spent = stack.cpu_seconds(pids) - before
    return result, 1000 * spent / result.requests if result.requests else 0.0


def measure(
    base: str,
    *,
    web_pid: int,
    secret: str,
    intent: dict,
    levels: tuple[int, ...] = (8, 32, 64),
    seconds: float = 3,
    runs: int = 3,
    label: str = "ingest",
) -> list[IngestRow]:
    queue = redis.Redis.from_url(stack.REDIS_URL)
    warm = loadgen.signed_bodies(
        2000, secret=secret, prefix=f"{label}_warm", event_type="payment_intent.succeeded",
        obj=intent,
    )  # fmt: skip
    loadgen.load(base, WEBHOOK, connections=8, seconds=1, bodies=warm)
    loadgen.load(base, BARE, connections=8, seconds=1, bodies=warm, cycle=True)
    rows = []
    for connections in levels:
        hooks, bares, web_cpu, db_cpu, bare_cpu = [], [], [], [], []
        for run in range(runs):
            bare, cpu = _cpu_per_request(
                [web_pid],
                lambda c=connections: loadgen.load(
                    base, BARE, connections=c, seconds=seconds, bodies=warm, cycle=True
                ),
            )
            bares.append(bare)
            bare_cpu.append(cpu)
            bodies = loadgen.signed_bodies(
                int(BODIES_PER_SECOND * seconds),
                secret=secret,
                prefix=f"{label}_{connections}_{run}",
                event_type="payment_intent.succeeded",
                obj=intent,
            )
            database = stack.postgres_backends()
            db_before = stack.cpu_seconds(database)
            hook, cpu = _cpu_per_request(
                [web_pid],
                lambda c=connections, b=bodies: loadgen.load(
                    base, WEBHOOK, connections=c, seconds=seconds, bodies=b
                ),
            )
            hooks.append(hook)
            web_cpu.append(cpu)
            db_cpu.append(1000 * (stack.cpu_seconds(database) - db_before) / max(1, hook.requests))
            queue.delete("celery")
        rows.append(
            IngestRow(
                connections,
                loadgen.median_load(hooks),
                loadgen.median_load(bares),
                statistics.median(web_cpu),
                statistics.median(db_cpu),
                statistics.median(bare_cpu),
            )
        )
    return rows
