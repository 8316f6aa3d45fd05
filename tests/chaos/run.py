"""`make chaos`: the fault suite on the real stack; prints the table, writes RESULTS.md.

    .venv/bin/python -m tests.chaos.run [--short] [--only 1,3] [--json FILE] [--write]

Drops and creates the PostgreSQL database `marketplace_chaos` (CHAOS_PG_URL is the
server; the database is left for inspection and dropped by the next run), starts a
private redis-server, the Stripe sandbox, gunicorn, a Celery worker and beat on
free loopback ports, runs each scenario (tests/chaos/scenarios.py), checks the
invariants after each (tests/chaos/invariants.py) and stops everything it started.
Logs: var/chaos/log/. Exit status 1 when any scenario fails; 2 when PostgreSQL or
redis-server is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

from .stack import ROOT, ChaosStack, StackError, missing_services

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
RECOVERY_LIMIT = float(os.environ.get("CHAOS_RECOVERY_SECONDS", "30"))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the test suite's short profile")
    parser.add_argument("--only", default="", help="scenario numbers, e.g. 1,3")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    parser.add_argument("--db-name", default="marketplace_chaos")
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "chaos")
    parser.add_argument("--drop-db", action="store_true", help="drop the database at the end")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = missing_services()
    if missing:
        print(f"chaos: {missing}", file=sys.stderr)
        return 2
    stack = ChaosStack(args.db_name, args.var_dir)
    # This process reads and writes the stack's database and sandbox with the same
    # settings as the children (set-up, invariants); its own log stays quiet.
    os.environ.update({**stack.env, "DJANGO_SETTINGS_MODULE": "config.settings",
                       "LOG_LEVEL": "WARNING"})  # fmt: skip
    import django

    django.setup()
    started = time.monotonic()
    try:
        models_match_migrations()
        print(f"Starting the stack (logs in {stack.procs.log_dir}) ...", flush=True)
        stack.start()
        rows = run_all(stack, args)
    except StackError as exc:
        print(f"\nchaos: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        stack.stop()
        if args.drop_db:
            stack.database_drop()
    return report_all(rows, args, time.monotonic() - started)


def models_match_migrations() -> None:
    """A model changed without its migration (a tree mid-edit) fails every scenario
    in a confusing way: say so at once instead."""
    from django.core.management import call_command
    from django.db import connections

    try:
        with warnings.catch_warnings():  # the database may not exist yet: not the point
            warnings.simplefilter("ignore", RuntimeWarning)
            call_command("makemigrations", "--check", "--dry-run", verbosity=0)
    except SystemExit as exc:
        raise StackError("the models have changes with no migration yet") from exc
    finally:
        connections.close_all()  # it looked at the database, which is dropped next


def run_all(stack: ChaosStack, args: argparse.Namespace) -> list:
    from . import data, scenarios
    from .sandbox import Sandbox

    profile = scenarios.SHORT if args.short else scenarios.LONG
    sandbox = Sandbox(stack.sandbox_url, stack.env["STRIPE_SECRET_KEY"])
    ctx = scenarios.Context(
        stack, sandbox, profile, data.buyer(), data.staff(),
        data.contractors(sandbox, profile.contractors),
    )  # fmt: skip
    wanted = {int(n) for n in args.only.split(",") if n}
    rows = []
    for number, (name, scenario) in enumerate(scenarios.SCENARIOS.items(), start=1):
        if wanted and number not in wanted:
            continue
        print(f"{name} ...", flush=True)
        rows.append(run_one(ctx, name, scenario))
        print(f"    {rows[-1].failures(RECOVERY_LIMIT) or 'ok'}", flush=True)
    return rows


def run_one(ctx, name: str, scenario):
    """One scenario, its wait and its checks; a harness error is a failed row, and the
    stack is put back (broker, database, processes) for the next one."""
    from . import faults, invariants
    from .report import Row
    from .scenarios import KNOWN_WORKER_BUG

    started = time.monotonic()
    notes: list[str] = []

    def phase(what: str) -> None:
        print(f"    {what} at {time.monotonic() - started:.1f} s", flush=True)

    try:
        act = scenario(ctx)
        phase("fault cleared")
        progress = invariants.wait(
            ctx.sandbox, act.ops, timeout=ctx.profile.wait_seconds,
            tick=lambda: notes.extend(ctx.stack.restart_if_dead(known=KNOWN_WORKER_BUG)),
        )  # fmt: skip
        phase("done" if progress.settled_at else "gave up waiting")
        restore(ctx, faults)  # Stripe at full speed for the checks' reads
        findings = invariants.check(ctx.sandbox, act.ops)
        phase("checked")
    except Exception as exc:  # noqa: BLE001 - reported as the row's failure
        traceback.print_exc()
        return Row(name, "—", 0, 0, 0, 0, None, None, 0, time.monotonic() - started,
                   notes, [f"harness error: {exc!r}"])  # fmt: skip
    finally:
        restore(ctx, faults)
    return _row(name, act, progress, findings, notes, time.monotonic() - started)


def restore(ctx, faults) -> None:
    ctx.sandbox.faults_clear()
    ctx.sandbox.latency(0)
    ctx.sandbox.webhook_switches(duplicate=False, reorder=False)
    faults.database_allow(ctx.stack)
    stack = ctx.stack
    if stack.redis is None:
        stack.redis_start()
    if stack.web is None:
        stack.web_start()
    if stack.worker is None:
        stack.worker_start()


def _row(name, act, progress, findings, notes, seconds):
    from .report import Row

    done = progress.done
    # People asked for `expected` operations; one the shop never recorded is stranded too.
    stranded = max(0, act.expected - len(act.ops)) + progress.stranded(act.ops)
    problems = list(findings.problems)
    problems += [f"died: {n}" for n in notes if "known bug" not in n]
    problems += [f"still waiting: {what}" for _, what in progress.waiting[:5]]
    recovery = max(done.values()) - act.cleared_at if len(done) == len(act.ops) and done else None
    settled = progress.settled_at - act.cleared_at if progress.settled_at else None
    return Row(
        scenario=name,
        operations=act.operations,
        expected=act.expected,
        observed=len(done),
        stranded=stranded,
        duplicated=len(findings.duplicated),
        recovery_s=None if recovery is None else max(0.0, recovery),
        settled_s=None if settled is None else max(0.0, settled),
        http_errors=sum(1 for visit in act.visits if not visit.ok),
        seconds=seconds,
        notes=act.notes
        + notes
        + findings.notes
        + [f"failed request: {v}" for v in act.visits if not v.ok][:5],
        problems=problems + [f"duplicated: {d}" for d in findings.duplicated],
    )


def report_all(rows: list, args: argparse.Namespace, elapsed: float) -> int:
    from .report import details, document, table

    print("\n" + table(rows) + "\n\n" + details(rows, RECOVERY_LIMIT), flush=True)
    if args.json:
        args.json.write_text(
            json.dumps({"recovery_limit": RECOVERY_LIMIT, "rows": [r.as_dict() for r in rows]})
        )
    if args.write:
        profile = "short" if args.short else "long"
        RESULTS.write_text(document(rows, profile=profile, recovery_limit=RECOVERY_LIMIT,
                                    elapsed=elapsed))  # fmt: skip
        print(f"Written to {RESULTS.relative_to(ROOT)}", flush=True)
    return 1 if any(row.failures(RECOVERY_LIMIT) for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
