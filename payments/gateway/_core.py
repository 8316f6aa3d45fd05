"""What every gateway function shares: the client, error translation, the write path.

`write` is how every write goes out: our idempotency key with the install's
prefix, our exceptions for Stripe's, and after a 500 a look at what the write
did before any other key is tried (keys.py). The `find` helpers here are the
look-ups those writes use.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.metrics import STRIPE_CALLS, STRIPE_LATENCY

from . import keys
from .errors import (
    CardDeclined,
    GatewayError,
    GatewayRejected,
    GatewayUnavailable,
    RateLimited,
    decline_message,
)
from .version import api_version_problem

# One logger for the whole boundary: a log line's source is "payments.gateway".
logger = logging.getLogger("payments.gateway")

# How /metrics names each outcome of a Stripe call.
_OUTCOMES: dict[type[GatewayError], str] = {
    CardDeclined: "declined",
    RateLimited: "rate_limited",
    GatewayUnavailable: "unavailable",
    GatewayRejected: "rejected",
}

# Stripe replays a 500 stored for a key for 24 hours, so what a write left behind
# is looked for among the objects created in the last day (and an hour of skew).
RECOVERY_WINDOW = 25 * 3600


@functools.cache
def client() -> stripe.StripeClient:
    """One StripeClient per process, built from settings (cached; reset in tests)."""
    problem = api_version_problem(settings.STRIPE_API_VERSION)
    if problem:
        # Processes that run no system checks (gunicorn, Celery) stop here instead.
        raise ImproperlyConfigured(problem)
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        stripe_version=settings.STRIPE_API_VERSION,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        # Unset means real Stripe; otherwise every API family goes to the sandbox.
        base_addresses={"api": base, "files": base, "connect": base} if base else {},
    )


def stripe_client() -> stripe.StripeClient:
    """The client every call uses, looked up as `payments.gateway.client` at call
    time: tests replace it there (to fake Stripe, or to prove nothing calls it)."""
    from payments import gateway

    return gateway.client()


def reset_client() -> None:
    """Forget the cached client and key prefix (settings changed, e.g. in a test)."""
    client.cache_clear()
    keys.install_prefix.cache_clear()


@contextmanager
def translated_errors(operation: str) -> Iterator[None]:
    """Turn Stripe's exceptions into ours, keeping the cause for the logs; count the
    call and its time by operation and outcome (/metrics)."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except stripe.StripeError as exc:
        translated = _translated(exc)
        outcome = _OUTCOMES[type(translated)]
        logger.info("Stripe %s: %s (request %s)", operation, outcome, exc.request_id or "?")
        raise translated from exc
    except Exception:
        outcome = "error"
        raise
    finally:
        STRIPE_CALLS.labels(operation, outcome).inc()
        STRIPE_LATENCY.labels(operation).observe(time.perf_counter() - started)


def _translated(exc: stripe.StripeError) -> GatewayError:
    """Our exception for one of Stripe's."""
    if isinstance(exc, stripe.CardError):
        error = exc.error
        code = (error.code if error else None) or exc.code or "card_declined"
        decline_code = (error.decline_code if error else None) or ""
        return CardDeclined(code, decline_message(code, decline_code), decline_code=decline_code)
    if isinstance(exc, stripe.RateLimitError):
        return RateLimited(str(exc))
    server_error = bool(exc.http_status and exc.http_status >= 500)
    if isinstance(exc, stripe.APIConnectionError | stripe.APIError) or server_error:
        headers = {name.lower(): value for name, value in (exc.headers or {}).items()}
        return GatewayUnavailable(
            str(exc),
            server_error=server_error,
            # Stripe marks an answer it replays from a key's stored result.
            replayed=headers.get("idempotent-replayed") == "true",
        )
    error = exc.error
    return GatewayRejected(
        (error.message if error else None) or str(exc),
        code=(error.code if error else None) or exc.code or "",
        param=(error.param if error else None) or "",
        status=exc.http_status or 0,
    )


def plain(result: Any) -> dict[str, Any]:
    """The SDK object as a dict, with Stripe's request id in the log beside ours (the
    log filter adds it): one line leads from a request or task to Stripe's dashboard."""
    last = getattr(result, "last_response", None)
    logger.info(
        "Stripe %s %s (request %s)",
        getattr(result, "object", "?"),
        getattr(result, "id", "?"),
        getattr(last, "request_id", None) or "?",
    )
    return result.to_dict()


def read_options(account: str | None = None) -> stripe.RequestOptions:
    return {"stripe_account": account} if account else {}


def write(
    operation: str,
    idempotency_key: str,
    send: Callable[[stripe.RequestOptions], Any],
    find: Callable[[], dict | None],
    account: str | None = None,
) -> dict:
    """One write: `send(options)` with our key, prefixed; after a 500, `find()` says
    whether it took effect (None must be proof that nothing was written)."""

    def attempt(key: str) -> dict:
        options: stripe.RequestOptions = {"idempotency_key": key}
        if account:
            options["stripe_account"] = account
        with translated_errors(operation):
            return plain(send(options))

    return keys.write_once(idempotency_key, attempt, find)


def nothing() -> None:
    """`find` of a write that leaves nothing lasting (a link) or only sets values
    (an update): doing it again under another key changes nothing more."""


def having(items: Iterable[Any], **expected: Any) -> dict | None:
    """The first object (as a dict) whose fields have these values; `metadata` is
    compared key by key."""
    wanted_metadata = expected.pop("metadata", {})
    for item in items:
        obj = item.to_dict() if hasattr(item, "to_dict") else item
        metadata = obj.get("metadata") or {}
        if all(metadata.get(k) == v for k, v in wanted_metadata.items()) and all(
            obj.get(field) == value for field, value in expected.items()
        ):
            return obj
    return None


def found(operation: str, listing: Callable[[], Any], **expected: Any) -> dict | None:
    """Page through the list `listing()` returns for the object `expected` describes."""
    with translated_errors(operation):
        return having(listing().auto_paging_iter(), **expected)


def since() -> int:
    """Where a search for what a write left behind starts (Unix time)."""
    return int(time.time()) - RECOVERY_WINDOW
