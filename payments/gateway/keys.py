"""Idempotency keys as the gateway sends them, and how a write gets past a stored 500.

Our keys come from our rows (`payment-7-capture`, `refund-12`). Two installs
sharing one Stripe account (two developers on one test account, a staging copy
of production) would use the same keys for different payments, and Stripe would
answer one with the other's result; so every key gets the install's prefix,
`STRIPE_IDEMPOTENCY_PREFIX` (default: derived from the database's identity,
once per process; "" sends the keys bare).

Stripe stores the first result for a key for 24 hours, *500 errors included*
(docs: idempotent requests), so retrying a write with the same key after a 500
gets that 500 again, for a day. `write_once` gets past it without ever doing a
write twice: after a 500 it asks Stripe whether the write took effect (the
caller's `find`) and returns what it finds; only when Stripe shows nothing does
it move to the next key in a fixed series (`key`, `key/retry-1`, …). The series
is the same for every process, so two workers retrying one write use the same
keys, and Stripe's idempotency keeps them to one write. A fresh 500 (not a
replay) is raised as `GatewayUnavailable`, so one call makes at most one new
write attempt and the task backs off as it would for any outage; its next run
finds the stored 500 replayed, checks again, and goes on to the next key.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Iterator
from typing import TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .errors import GatewayUnavailable

logger = logging.getLogger(__name__)

# Keys tried for one write (the first and four successors): five stored 500s for
# one write within a day means Stripe is broken for it, not unlucky.
MAX_KEYS = 5

T = TypeVar("T")


@functools.cache
def install_prefix() -> str:
    """`STRIPE_IDEMPOTENCY_PREFIX`, or a short hash of the database's identity."""
    configured = getattr(settings, "STRIPE_IDEMPOTENCY_PREFIX", None)
    if configured is not None:
        return str(configured)
    return database_prefix(settings.DATABASES["default"])


def database_prefix(database: dict) -> str:
    """Ten hex digits naming one database (engine, host, port, name)."""
    parts = (str(database.get(part) or "") for part in ("ENGINE", "HOST", "PORT", "NAME"))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:10]


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


def attempt_keys(key: str) -> Iterator[str]:
    """The keys one write may use, in order: `key`, then `key/retry-1` …"""
    yield key
    for number in range(1, MAX_KEYS):
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
        f"Stripe keeps a 500 for each of the {MAX_KEYS} keys of {key!r}.", server_error=True
    )
