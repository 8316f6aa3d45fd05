"""Before/after: webhook ingest of several copies of the code, interleaved on one stack.

    .venv/bin/python -m bench.compare_ingest NAME=DIR [NAME=DIR ...] [--rounds 5]
        [--env KEY=VALUE ...]

Each DIR is a copy of the project (e.g. `git worktree add /tmp/before HEAD~1`); each
gets its own gunicorn (same gunicorn.conf.py settings) on the same database, Redis
and sandbox. Rounds alternate between them (A, B, A, B, ...) so the shared machine's
noise lands on all alike; prints the median rate and p99 and, steadier, the web
server's and PostgreSQL's CPU milliseconds per event.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import redis

from . import ingest, loadgen, stack
from .run import SECRET, payment_intent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("copies", nargs="+", help="NAME=DIR")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for every web server")
    args = parser.parse_args(argv)
    extra_env = dict(item.split("=", 1) for item in args.env)
    copies = dict(item.split("=", 1) for item in args.copies)
    st = stack.Stack()
    try:
        sandbox_port = stack.free_port()
        env = stack.child_env(STRIPE_API_BASE=f"http://{stack.HOST}:{sandbox_port}", **extra_env)
        stack.database_recreate()
        stack.redis_clear()
        st.run("migrate", [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
        st.sandbox(sandbox_port)
        intent = payment_intent(f"http://{stack.HOST}:{sandbox_port}")
        webs = {}
        for name, root in copies.items():
            port = stack.free_port()
            webs[name] = (st.web(port, env, name=f"web-{name}", root=Path(root)), port)
        queue = redis.Redis.from_url(stack.REDIS_URL)
        results: dict[str, list] = {name: [] for name in copies}
        for name, (_, port) in webs.items():
            warm = loadgen.signed_bodies(
                2000, secret=SECRET, prefix=f"warm-{name}", event_type="payment_intent.succeeded",
                obj=intent,
            )  # fmt: skip
            loadgen.load(f"http://{stack.HOST}:{port}", ingest.WEBHOOK, connections=8, seconds=1,
                         bodies=warm)  # fmt: skip
        for n in range(args.rounds):
            for name, (web, port) in webs.items():
                bodies = loadgen.signed_bodies(
                    int(ingest.BODIES_PER_SECOND * args.seconds), secret=SECRET,
                    prefix=f"{name}-{n}-{os.getpid()}", event_type="payment_intent.succeeded",
                    obj=intent,
                )  # fmt: skip
                database = stack.postgres_backends()
                web_before, db_before = stack.cpu_seconds([web.pid]), stack.cpu_seconds(database)
                load = loadgen.load(
                    f"http://{stack.HOST}:{port}", ingest.WEBHOOK,
                    connections=args.connections, seconds=args.seconds, bodies=bodies,
                )  # fmt: skip
                per = 1000 / max(1, load.requests)
                web_ms = (stack.cpu_seconds([web.pid]) - web_before) * per
                db_ms = (stack.cpu_seconds(database) - db_before) * per
                results[name].append((load, web_ms, db_ms))
                queue.delete("celery")
        print(f"{args.connections} connections, {args.rounds} rounds of {args.seconds:.0f} s, "
              f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
        for name, runs in results.items():
            print(
                f"{name:>10}: {statistics.median(r[0].rps for r in runs):6.0f} events/s  "
                f"p99 {statistics.median(r[0].p99_ms for r in runs):6.1f} ms  "
                f"web CPU {statistics.median(r[1] for r in runs):.2f} ms/event  "
                f"DB CPU {statistics.median(r[2] for r in runs):.2f} ms/event  "
                f"(rates: {' '.join(f'{r[0].rps:.0f}' for r in runs)})"
            )
    finally:
        st.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
