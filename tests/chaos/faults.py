"""The faults, each injected and cleared by the suite, never by the code under test.

Each `clear` returns the wall-clock time (time.time(), the sandbox's request log
uses the same clock) at which the fault was gone: recovery is measured from there.
"""

from __future__ import annotations

import time

from .sandbox import Sandbox
from .stack import ChaosStack, admin_connection

CAPTURE_PATH = "/v1/payment_intents/*/capture"


def broker_down(stack: ChaosStack) -> None:
    """Redis stops; its queued and unacknowledged messages are lost with it."""
    stack.redis_stop()


def broker_up(stack: ChaosStack) -> float:
    stack.redis_start()
    return time.time()


def worker_kill(stack: ChaosStack) -> None:
    """The worker and its pool die at once (SIGKILL of the process group): the tasks
    they held are neither finished nor acknowledged."""
    stack.kill(stack.worker)
    stack.worker = None


def worker_replace(stack: ChaosStack) -> float:
    """A new worker is started (as a supervisor would); cleared when it is launched."""
    stack.worker_start()
    return time.time()


def web_kill(stack: ChaosStack) -> None:
    """gunicorn's master and workers die mid-request."""
    stack.kill(stack.web)
    stack.web = None


def web_replace(stack: ChaosStack) -> float:
    stack.web_start()  # returns once /healthz answers
    return time.time()


def database_refuse(stack: ChaosStack) -> None:
    """What a database restart looks like to its clients, without restarting the
    server (shared with others): every connection of the suite's database is
    terminated, and new ones are refused until `database_allow`."""
    with admin_connection() as conn:
        conn.execute(f'ALTER DATABASE "{stack.db_name}" ALLOW_CONNECTIONS false')
        # Twice: a connection opened between the ALTER and the first sweep goes too.
        for _ in range(2):
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (stack.db_name,),
            )
            time.sleep(0.1)


def database_allow(stack: ChaosStack) -> float:
    with admin_connection() as conn:
        conn.execute(f'ALTER DATABASE "{stack.db_name}" ALLOW_CONNECTIONS true')
    return time.time()


def captures_fail(sandbox: Sandbox) -> None:
    """Stripe answers every capture with a 500 (stored for its idempotency key, as
    Stripe stores its own 500s) until `captures_recover`."""
    sandbox.fail(CAPTURE_PATH, kind="500")


def captures_recover(sandbox: Sandbox) -> float:
    sandbox.faults_clear()
    return time.time()


def webhook_storm_start(sandbox: Sandbox) -> None:
    """Every delivery sent twice, and what arrives together sent newest first."""
    sandbox.webhook_switches(duplicate=True, reorder=True)


def webhook_storm_stop(sandbox: Sandbox) -> float:
    sandbox.webhook_switches(duplicate=False, reorder=False)
    return time.time()
