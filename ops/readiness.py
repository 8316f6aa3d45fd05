"""Readiness: can this process serve? Each check answers (ok, detail) quickly.

The database, the broker and the cache must answer and every migration must be
applied, else the load balancer should send traffic elsewhere (503). Stripe is only
reported: a Stripe outage must not take the shop out of rotation, since pages that
read our database still work and Stripe writes are retried from their rows.
"""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

Check = Callable[[], str]
logger = logging.getLogger(__name__)


class NotReady(Exception):
    """A check's own finding, in words safe to show on the public probe."""


# Migrations do not un-apply themselves: once all are seen applied, a process need
# not load the migration graph (tens of ms) on every probe again.
_migrations_applied = False
# Stripe is asked at most this often per process (a probe every few seconds from a
# load balancer must not spend Stripe's rate limit).
STRIPE_CHECK_SECONDS = 60
_stripe_last: tuple[float, bool, str] | None = None


def database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return connections[DEFAULT_DB_ALIAS].vendor


def migrations() -> str:
    global _migrations_applied
    if not _migrations_applied:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            raise NotReady(f"{len(pending)} migration(s) not applied")
        _migrations_applied = True
    return "all applied"


def broker() -> str:
    from config.celery import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        # The kind only: the probe is public, the broker's address is not.
        return connection.transport.driver_type


def cache_check() -> str:
    key = "readyz-probe"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise NotReady("the cache did not keep a value")
    return cache.__class__.__name__


def stripe() -> tuple[bool, str]:
    """(reachable, detail), asked at most once per STRIPE_CHECK_SECONDS per process."""
    global _stripe_last
    now = time.monotonic()
    if _stripe_last is not None and now - _stripe_last[0] < STRIPE_CHECK_SECONDS:
        return _stripe_last[1], _stripe_last[2]
    from payments import gateway

    try:
        gateway.balance_retrieve()
        result = (True, settings.STRIPE_API_BASE or "api.stripe.com")
    except gateway.GatewayError as exc:
        result = (False, type(exc).__name__)
    _stripe_last = (now, *result)
    return result


REQUIRED: dict[str, Check] = {
    "database": database,
    "migrations": migrations,
    "broker": broker,
    "cache": cache_check,
}


def readiness() -> tuple[bool, dict[str, dict]]:
    """(ready, {check: {"ok": bool, "detail": str}}); Stripe is reported, not required.

    Details name what failed and how, never an address or a credential: the probe is
    unauthenticated."""
    report: dict[str, dict] = {}
    for name, check in REQUIRED.items():
        try:
            report[name] = {"ok": True, "detail": check()}
        except NotReady as exc:
            report[name] = {"ok": False, "detail": str(exc)}
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            # The full error (it may name hosts) goes to the log, the kind to the probe.
            logger.warning("Readiness check %s failed: %s", name, exc)
            report[name] = {"ok": False, "detail": type(exc).__name__}
    ready = all(entry["ok"] for entry in report.values())
    reachable, detail = stripe()
    report["stripe"] = {"ok": reachable, "detail": detail, "required": False}
    return ready, report
