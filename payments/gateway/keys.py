"""Idempotency keys as the gateway sends them, and how a write gets past a stored 500.

Our keys come from our rows (`payment-7-capture`, `refund-12`). Two installs
sharing one Stripe account (two developers on one test account, a staging copy
of production) would use the same keys for different payments, and Stripe would
answer one with the other's result; so every key gets the install's prefix,
`STRIPE_IDEMPOTENCY_PREFIX`, by default a hash of the database's identity: engine,
host, port, name *and* an install id kept in that database (payments/installation.py),
so it is the same for every process and restart of one install and differs between
two installs even when their database settings are the same ("" sends keys bare).

Stripe stores the first result for a key for 24 hours, *500 errors included*
(docs: idempotent requests), so retrying a write with the same key after a 500
gets that 500 again, for a day. `write_once` gets past it without ever doing a
write twice: after a 500 it asks Stripe whether the write took effect (the
caller's `find`) and returns what it finds; only when Stripe shows nothing does
it move to a new key, `key/retry-N`. For work that is a row handed out by the
outbox (core/outbox.py), N is the row's dispatch count (`dispatched`): every
hand-out of the row has a key of its own, the same in whichever worker runs it, and
there are as many as the row has hand-outs. Elsewhere N counts from 1. A fresh 500
(not a replay) is raised as `GatewayUnavailable`, so one call makes at most one new
write attempt and the task backs off as it would for any outage; its next run finds
the stored 500 replayed, checks again, and goes on to the next key.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .errors import GatewayUnavailable

logger = logging.getLogger(__name__)

# New keys one call may walk through, each only after Stripe replayed a stored 500
# for the one before and showed nothing written: a guard against a loop, not a
# budget (the next hand-out of the row starts further on).
MAX_KEYS_PER_CALL = 100

# The dispatch count of the outbox row whose work is running (None: no row).
_dispatch: ContextVar[int | None] = ContextVar("stripe_key_dispatch", default=None)

T = TypeVar("T")


@functools.cache
def install_prefix() -> str:
    """`STRIPE_IDEMPOTENCY_PREFIX`, or a short hash of the database's identity."""
    configured = getattr(settings, "STRIPE_IDEMPOTENCY_PREFIX", None)
    if configured is not None:
        return str(configured)
    from payments.installation import installation_id

    return database_prefix(settings.DATABASES["default"], installation_id())


def database_prefix(database: dict, install_id: str = "") -> str:
    """Twelve hex digits naming one database (engine, host, port, name) of one
    install (the id it keeps in that database)."""
    parts = [str(database.get(part) or "") for part in ("ENGINE", "HOST", "PORT", "NAME")]
    return hashlib.sha256("|".join([*parts, install_id]).encode()).hexdigest()[:12]


@receiver(setting_changed)
def _forget_prefix(*, setting: str, **kwargs: object) -> None:
    if setting in ("STRIPE_IDEMPOTENCY_PREFIX", "DATABASES"):
        install_prefix.cache_clear()


def scoped(key: str) -> str:
    """Our key as Stripe sees it: with this install's prefix."""
    if not key:
        raise ValueError("every write to Stripe needs an idempotency key")
    prefix = install_prefix()
    return f"{prefix}:{key}" if prefix else key


@contextmanager
def dispatched(count: int | None) -> Iterator[None]:
    """Writes inside run the work of an outbox row handed out `count` times."""
    token = _dispatch.set(count)
    try:
        yield
    finally:
        _dispatch.reset(token)


@contextmanager
def row_dispatched(model: Any, pk: int) -> Iterator[None]:
    """`dispatched` with the row's own count, read from the database."""
    count = model._default_manager.filter(pk=pk).values_list("dispatches", flat=True).first()
    with dispatched(count):
        yield


def attempt_keys(key: str) -> Iterator[str]:
    """The keys one write may use, in order: `key`, then `key/retry-N` from the
    running row's dispatch count (from 1 without a row) upwards."""
    yield key
    start = max(_dispatch.get() or 1, 1)
    for number in itertools.islice(itertools.count(start), MAX_KEYS_PER_CALL):
        yield f"{key}/retry-{number}"


def write_once(key: str, write: Callable[[str], T], find: Callable[[], T | None]) -> T:
    """`write(scoped key)`, getting past 500s Stripe stored for the key (see above).

    `find()` re-reads Stripe and returns the object the write made or changed if it
    took effect, else None: None must be proof that nothing was written.
    """
    for attempt in attempt_keys(scoped(key)):
        try:
            return write(attempt)
        except GatewayUnavailable as exc:
            if not exc.server_error:
                raise  # no answer, or a 429: nothing stored, the same key next time
            found = find()
            if found is not None:
                logger.warning("Stripe answered 500 to %s, but the write took effect", attempt)
                return found
            if not exc.replayed:
                raise  # a fresh 500: back off; the next run checks again and moves on
            logger.warning("Stripe keeps a 500 for %s and nothing was written: next key", attempt)
    raise GatewayUnavailable(
        f"Stripe keeps a 500 for {MAX_KEYS_PER_CALL} keys of {key!r} in a row.", server_error=True
    )
