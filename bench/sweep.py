"""5. Balance sweep: `balances_sweep_task` in a real Celery worker over many contractors.

The connected accounts are created at the sandbox (POST /v1/accounts from a few
threads), their users and profiles bulk-created. The worker runs with
STRIPE_RATE_LIMIT_PER_SEC set for the run; while it sweeps, the sandbox is told
every few seconds to answer the next `GET /v1/balance` calls with 429. The sandbox's
own request log gives the achieved call rate; the task's result (a Redis result
backend, for this worker only) says how many were refreshed, rate-limited, failed.
"""

from __future__ import annotations

import bisect
import http.client
import json
import threading
import time
from dataclasses import dataclass

from accounts.models import User, UserProfile

from . import stack


@dataclass
class SweepRow:
    contractors: int
    configured: float
    achieved: float  # calls/s between the first and the last balance call
    achieved_clean: float  # the same, over the stretches with no 429 in or just before
    calls: int
    answered_429: int
    stats: dict
    seconds: float
    memory: dict
    cpu_ms: float  # worker CPU per balance call


def _accounts(port: int, count: int, threads: int = 8) -> list[str]:
    ids: list[str] = []
    lock = threading.Lock()
    todo = iter(range(count))

    def run() -> None:
        conn = http.client.HTTPConnection(stack.HOST, port, timeout=30)
        headers = {
            "Authorization": f"Bearer {stack.BENCH_SECRET_KEY}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        while True:
            with lock:
                n = next(todo, None)
            if n is None:
                break
            conn.request("POST", "/v1/accounts", "type=express&country=US", headers)
            response = conn.getresponse()
            body = json.loads(response.read())
            with lock:
                ids.append(body["id"])
        conn.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return ids


def setup(port: int, first: int, count: int) -> float:
    """Create `count` more contractors with connected accounts; returns seconds taken."""
    started = time.perf_counter()
    ids = _accounts(port, count)
    users = User.objects.bulk_create(
        (User(email=f"sweep-{n}@bench.invalid", password="!") for n in range(first, first + count)),
        batch_size=2000,
    )
    UserProfile.objects.bulk_create(
        (
            UserProfile(user=user, role=UserProfile.Role.CONTRACTOR, stripe_id=account)
            for user, account in zip(users, ids, strict=True)
        ),
        batch_size=2000,
    )
    return time.perf_counter() - started


def _control(port: int, method: str, path: str, body: dict | None = None) -> dict:
    conn = http.client.HTTPConnection(stack.HOST, port, timeout=30)
    conn.request(method, path, json.dumps(body or {}), {"Content-Type": "application/json"})
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data


def run(
    st: stack.Stack,
    env: dict[str, str],
    sandbox_port: int,
    *,
    contractors: int,
    rate: int,
    inject_every: float = 5.0,
    inject_count: int = 3,
) -> SweepRow:
    """Run one sweep at `rate` calls/s over the first `contractors` (all when equal)."""
    from celery import Celery

    backend = stack.REDIS_URL
    worker_env = {
        **env,
        "STRIPE_RATE_LIMIT_PER_SEC": str(rate),
        "CELERY_RESULT_BACKEND": backend,
    }
    worker = st.worker("sweep", worker_env, pool="solo", concurrency=1)
    app = Celery("bench", broker=stack.REDIS_URL, backend=backend)
    try:
        _control(sandbox_port, "DELETE", "/_sandbox/requests")
        _control(sandbox_port, "DELETE", "/_sandbox/faults")
        cpu_before = stack.cpu_seconds([worker.pid])
        result = app.send_task("payments.tasks.balances_sweep_task")
        stop = threading.Event()

        def inject() -> None:
            while not stop.wait(inject_every):
                _control(sandbox_port, "POST", "/_sandbox/faults",
                         {"method": "GET", "path": "/v1/balance", "kind": "429",
                          "count": inject_count})  # fmt: skip

        injector = threading.Thread(target=inject)
        injector.start()
        started = time.perf_counter()
        try:
            stats = result.get(timeout=contractors / rate * 3 + 60)
        finally:
            stop.set()
            injector.join()
        seconds = time.perf_counter() - started
        _control(sandbox_port, "DELETE", "/_sandbox/faults")
        log = _control(sandbox_port, "GET", "/_sandbox/requests?path=/v1/balance")["requests"]
        memory = stack.memory(worker.pid)
        cpu = stack.cpu_seconds([worker.pid]) - cpu_before
    finally:
        st.stop(worker)
        app.close()
    times = [entry["t"] for entry in log]
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    limited = [entry["t"] for entry in log if entry["status"] == 429]
    return SweepRow(
        contractors=contractors,
        configured=rate,
        achieved=(len(times) - 1) / span if span else 0.0,
        achieved_clean=_clean_rate(times, limited),
        calls=len(times),
        answered_429=len(limited),
        stats=stats,
        seconds=seconds,
        memory=memory,
        cpu_ms=1000 * cpu / max(1, len(times)),
    )


def _clean_rate(times: list[float], limited: list[float], guard: float = 1.0) -> float:
    """Calls/s over the gaps between consecutive calls with no 429 in them or in the
    `guard` seconds before (the sweep slows down after a 429 on purpose)."""
    limited = sorted(limited)
    gaps = []
    for a, b in zip(times, times[1:], strict=False):
        i = bisect.bisect_left(limited, a - guard)
        if i < len(limited) and limited[i] <= b:
            continue
        gaps.append(b - a)
    return len(gaps) / sum(gaps) if gaps and sum(gaps) else 0.0
