"""The fault suite, short: every scenario of `make chaos` with fewer operations.

The stack runs in its own process (`python -m tests.chaos.run --short`), with its own
PostgreSQL database (`marketplace_chaos_<pid>`, dropped afterwards; never the test
database), a private redis-server and free ports; this module only reads the rows it
reports. Each scenario must end with nothing stranded, nothing done twice, every
invariant holding (tests/chaos/invariants.py) and its last operation done within
CHAOS_RECOVERY_SECONDS (default 30) of the fault clearing.

Needs PostgreSQL (CHAOS_PG_URL, default postgres@127.0.0.1:5432) and the
redis-server program; without them the tests skip, or fail under REQUIRE_SERVICES=1.
Deselect with `-m "not chaos"`. About 3 minutes.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.chaos.scenarios import SCENARIOS
from tests.chaos.stack import ROOT, missing_services

pytestmark = pytest.mark.chaos

TIMEOUT = 900  # the whole run; a stranded operation costs its scenario a minute


@pytest.fixture(scope="module")
def chaos_rows():
    missing = missing_services()
    if missing:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but {missing}")
        pytest.skip(missing)
    # The processes' logs, kept when a scenario fails (var/ is not in git).
    folder = ROOT / "var" / "chaos-test" / str(os.getpid())
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "rows.json"
    run = subprocess.run(
        [sys.executable, "-m", "tests.chaos.run", "--short", "--json", str(out),
         "--db-name", f"marketplace_chaos_{os.getpid()}", "--var-dir", str(folder),
         "--drop-db"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )  # fmt: skip
    if not out.exists():
        pytest.fail(
            f"the fault suite did not finish (exit {run.returncode}, logs in {folder}):\n"
            f"{run.stderr[-4000:]}"
        )
    result = json.loads(out.read_text())
    print(run.stdout[-3000:])  # the table, shown with -s or on failure
    if run.returncode == 0:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"Logs of every process: {folder / 'log'}")
    return result["recovery_limit"], {row["scenario"]: row for row in result["rows"]}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_money_operations_survive(chaos_rows, scenario):
    limit, rows = chaos_rows
    row = rows[scenario]
    assert row["problems"] == [], row["problems"]
    assert row["stranded"] == 0, row
    assert row["duplicated"] == 0, row
    assert row["http_errors"] == 0, row["notes"]
    assert row["recovery_s"] is not None, row
    assert row["recovery_s"] <= limit, row
    assert row["observed"] == row["expected"], row
