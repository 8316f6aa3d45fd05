"""Bounds on the Stripe calls that page loads make.

Pages read our database first; a few also ask Stripe (the pay page needs each
PaymentIntent's client secret, the return page and the API re-read an intent the
webhook has not reported yet). Without a bound any free account turned 80 page loads
into 100 Stripe calls, and Stripe allows 25 calls a second in test mode, 100 live,
for the whole platform. Two bounds, both in the shared cache:

- per payment: an intent read from Stripe is reused for STRIPE_SYNC_MIN_SECONDS, and
  a sync with Stripe happens at most once in that time (webhooks keep us current);
- per user: at most STRIPE_READS_PER_MINUTE page loads that may call Stripe
  (`stripe_read_allowed`; the API uses the DRF throttle scope `stripe_reads`).
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache


def _intent_key(payment_id: int) -> str:
    return f"stripe-intent:{payment_id}"


def intent_read(payment_id: int, retrieve: Callable[[], dict]) -> dict:
    """The payment's intent, from Stripe at most once per STRIPE_SYNC_MIN_SECONDS."""
    key = _intent_key(payment_id)
    intent = cache.get(key)
    if intent is None:
        intent = retrieve()
        intent_remember(payment_id, intent)
    return intent


def intent_remember(payment_id: int, intent: dict) -> None:
    """Keep a freshly read intent for the next page loads (a few seconds)."""
    cache.set(_intent_key(payment_id), intent, settings.STRIPE_SYNC_MIN_SECONDS)


def _sync_key(payment_id: int) -> str:
    return f"stripe-sync:{payment_id}"


def sync_due(payment_id: int) -> bool:
    """True at most once per STRIPE_SYNC_MIN_SECONDS per payment (atomic in the cache)."""
    return cache.add(_sync_key(payment_id), 1, settings.STRIPE_SYNC_MIN_SECONDS)


def sync_allow(payment_ids: list[int]) -> None:
    """The buyer is on the pay page, about to try again: the return page that follows
    must read Stripe, even within the window (the pay page itself is limited per user)."""
    cache.delete_many([_sync_key(pk) for pk in payment_ids])


def synced(payment_ids: list[int], intent: dict) -> None:
    """One read of a checkout's shared intent stands for each of its payments: none of
    them reads Stripe again within the window."""
    ttl = settings.STRIPE_SYNC_MIN_SECONDS
    cache.set_many({_sync_key(pk): 1 for pk in payment_ids}, ttl)
    cache.set_many({_intent_key(pk): intent for pk in payment_ids}, ttl)


def stripe_read_allowed(user_id: int) -> bool:
    """False once the user made STRIPE_READS_PER_MINUTE Stripe-reading loads this minute."""
    key = f"stripe-reads:{user_id}:{int(time.time() // 60)}"
    cache.add(key, 0, 90)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this is the first of a new minute
        cache.set(key, 1, 90)
        count = 1
    return count <= settings.STRIPE_READS_PER_MINUTE
