"""`make bench`: the shop's figures on the real stack, printed and written to RESULTS.md.

    .venv/bin/python -m bench [--only ingest,e2e,...] [--seconds 3] [--runs 3]

Creates (drops first) the PostgreSQL database `marketplace_bench`, migrates it, uses
Redis database 14, starts on free loopback ports the Stripe sandbox (latency off
unless stated), gunicorn serving config.wsgi with gunicorn.conf.py and, per section,
real Celery workers; measures; stops everything it started. The database is left
behind for inspection and dropped by the next run. Nothing here is a test: it
prints figures, and compares them with the targets of issue 9.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from . import loadgen, machine, stack

SECTIONS = ("sandbox", "ingest", "e2e", "sweep", "catalogue", "checkout")
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECRET = stack.BENCH_WEBHOOK_SECRET  # the web server's STRIPE_WEBHOOK_SECRET


def gunicorn_config() -> dict:
    values = runpy.run_path(str(stack.ROOT / "gunicorn.conf.py"))
    return {k: values[k] for k in ("workers", "threads", "worker_class", "preload_app")}


def sandbox_bench(seconds: float) -> list[str]:
    out = subprocess.run(
        [sys.executable, str(stack.ROOT / "bench" / "sandbox_bench.py"), "--seconds", str(seconds)],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        cwd=stack.ROOT,
        check=True,
    )
    return out.stdout.strip().splitlines()


def payment_intent(sandbox: str) -> dict:
    """A real PaymentIntent from the sandbox: the `data.object` of the benchmark's events."""
    request = urllib.request.Request(
        sandbox + "/v1/payment_intents",
        data=b"amount=2500&currency=usd&capture_method=manual&payment_method=pm_card_visa"
        b"&confirm=true",
        headers={"Authorization": f"Bearer {stack.BENCH_SECRET_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help=",".join(SECTIONS))
    parser.add_argument("--seconds", type=float, default=3, help="per load-generator run")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--e2e-events", type=int, default=2000)
    parser.add_argument("--e2e-pool", choices=("solo", "prefork"), default="prefork")
    parser.add_argument("--sweep-contractors", type=int, default=10_000)
    parser.add_argument("--sweep-rate", type=int, default=100, help="calls/s, full sweep")
    parser.add_argument("--sample-contractors", type=int, default=1_000)
    parser.add_argument("--sample-rate", type=int, default=20, help="the default limit")
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 1 run of 2 s, small sweeps (~3 min)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.seconds, args.e2e_events = 1, 2, 1000
        args.sweep_contractors, args.sample_contractors = 2000, 200
    only = [s for s in args.only.split(",") if s]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    from . import report

    started = time.monotonic()
    results: dict = {"sections": only, "load_before": machine.load_average(), "timings": {}}
    clock = [time.monotonic()]

    def lap(name: str) -> None:
        now = time.monotonic()
        results["timings"][name] = now - clock[0]
        clock[0] = now

    st = stack.Stack()
    try:
        stack.check_services()
        results["machine"] = machine.describe()
        if "sandbox" in only:
            print("sandbox_bench.py ...", flush=True)
            results["sandbox"] = sandbox_bench(min(args.seconds * 2, 10))
            lap("sandbox")
        print("Preparing the database and the servers ...", flush=True)
        sandbox_port, web_port = stack.free_port(), stack.free_port()
        sandbox_url = f"http://{stack.HOST}:{sandbox_port}"
        env = stack.child_env(STRIPE_API_BASE=sandbox_url)
        stack.database_recreate()
        stack.redis_clear()
        st.run("migrate", [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
        st.run("collectstatic",
               [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env)  # fmt: skip
        st.sandbox(sandbox_port)
        web = st.web(web_port, env)
        base = f"http://{stack.HOST}:{web_port}"
        results["gunicorn"] = gunicorn_config()
        # This process: the same settings, for data set-up, the test client and queries.
        os.environ.update({**env, "DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_ROUTES": "1"})
        import django

        django.setup()
        intent = payment_intent(sandbox_url)
        lap("set-up")
        results["event_bytes"] = len(
            loadgen.signed_bodies(1, secret=SECRET, prefix="size", obj=intent,
                                  event_type="payment_intent.succeeded")[0][1]
        )  # fmt: skip

        if "ingest" in only:
            from . import ingest

            print("1. webhook ingest ...", flush=True)
            results["ingest"] = ingest.measure(
                base, web_pid=web.pid, secret=SECRET, intent=intent,
                seconds=args.seconds, runs=args.runs,
            )  # fmt: skip
            lap("ingest")
        if "e2e" in only:
            from . import e2e

            print("2. end-to-end processing ...", flush=True)
            results["e2e"] = e2e.measure(
                st, base, env, secret=SECRET, intent=intent, events=args.e2e_events,
                runs=args.runs, configs=e2e_configs(args.e2e_pool),
            )  # fmt: skip
            lap("e2e")
        if "sweep" in only:
            from . import sweep

            print("5. balance sweep ...", flush=True)
            sample = min(args.sample_contractors, args.sweep_contractors)
            setup = sweep.setup(sandbox_port, 0, sample)
            rows = [sweep.run(st, env, sandbox_port, contractors=sample, rate=args.sample_rate)]
            setup += sweep.setup(sandbox_port, sample, args.sweep_contractors - sample)
            rows.append(
                sweep.run(st, env, sandbox_port, contractors=args.sweep_contractors,
                          rate=args.sweep_rate)
            )  # fmt: skip
            results["sweep"] = rows
            results["sweep_setup"] = setup
            lap("sweep")
        if "catalogue" in only:
            from . import catalogue

            print("4. catalogue ...", flush=True)
            results["catalogue"] = catalogue.measure(base, seconds=args.seconds)
            lap("catalogue")
        if "checkout" in only:
            from . import checkout

            print("3. checkout ...", flush=True)
            results["checkout"] = checkout.measure(sandbox_url, reps=args.runs)
            lap("checkout")
        results["memory"] = {"web (gunicorn master + workers)": stack.memory(web.pid)}
        st.check_alive()
    except stack.StackError as exc:
        print(f"\nmake bench: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        st.stop_all()
    results["load_after"] = machine.load_average()
    results["elapsed"] = time.monotonic() - started
    text = report.render(results)
    print("\n" + text, flush=True)
    if not args.no_write:
        RESULTS.write_text(text)
        print(f"Written to {RESULTS.relative_to(stack.ROOT)}", flush=True)
    return 0


def e2e_configs(pool: str) -> list[tuple[str, str, int, int]]:
    """(label, pool, concurrency, worker instances) for 1 and 2 worker processes.

    solo: each worker process runs its tasks itself (two workers for two processes);
    prefork: one worker whose parent hands tasks to 1 or 2 child processes over pipes.
    """
    if pool == "solo":
        return [("1 worker process", "solo", 1, 1), ("2 worker processes", "solo", 1, 2)]
    return [("1 worker process", "prefork", 1, 1), ("2 worker processes", "prefork", 2, 1)]
