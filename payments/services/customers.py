"""Buyers' Stripe Customers."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache

from accounts.models import UserProfile
from payments import gateway

from .profiles import profile_stripe_object_ensure


def _cards_key(user_id: int) -> str:
    return f"saved-cards:{user_id}"


def buyer_customer_ensure(*, user_id: int) -> str:
    """The buyer's `cus_…` id, creating the Stripe Customer once if there is none.

    Safe to call from the sign-up task and from checkout at the same time
    (see `profile_stripe_object_ensure`).
    """
    customer_id, _ = profile_stripe_object_ensure(
        user_id=user_id,
        role=UserProfile.Role.BUYER,
        kind="a Stripe Customer",
        create=lambda profile: gateway.customer_create(
            email=profile.user.email,
            name=profile.name,
            user_id=user_id,
            idempotency_key=f"user-{user_id}-customer",
        ),
    )
    return customer_id


def buyer_saved_cards(*, user_id: int) -> list[dict]:
    """Cards the buyer saved on their Customer, as {id, brand, last4, exp} dicts (from
    the read `saved_cards_read_alongside` made for this page, if it did)."""
    methods = cache.get(_cards_key(user_id))
    if methods is not None:
        cache.delete(_cards_key(user_id))  # a read made for this page, used once
    else:
        profile = UserProfile.objects.get(user_id=user_id)
        if not profile.stripe_id:
            return []
        methods = gateway.customer_payment_methods(customer=profile.stripe_id)
    cards = []
    for method in methods:
        card = method.get("card") or {}
        cards.append(
            {
                "id": method["id"],
                "brand": card.get("brand", "card"),
                "last4": card.get("last4", ""),
                "exp": f"{card.get('exp_month', 0):02d}/{card.get('exp_year', 0) % 100:02d}",
            }
        )
    return cards


@contextmanager
def saved_cards_read_alongside(*, user_id: int) -> Iterator[None]:
    """Read the buyer's saved cards from Stripe while the body runs (the pay page's
    other Stripe call, its PaymentIntent), so the page waits for one round trip, not
    two; `buyer_saved_cards` then answers from that read, once, within a few seconds.

    Only the call leaves this thread. A buyer without a Customer yet has no card;
    a read that fails is forgotten (the page asks again, or shows no saved card).
    """
    customer = (
        UserProfile.objects.filter(user_id=user_id).values_list("stripe_id", flat=True).first()
        or ""
    )
    if not customer.startswith("cus_"):
        yield
        cache.set(_cards_key(user_id), [], settings.STRIPE_SYNC_MIN_SECONDS)
        return
    pool = ThreadPoolExecutor(max_workers=1)
    read = pool.submit(gateway.customer_payment_methods, customer=customer)
    try:
        yield
    finally:
        pool.shutdown(wait=True)
    if read.exception() is None:
        cache.set(_cards_key(user_id), read.result(), settings.STRIPE_SYNC_MIN_SECONDS)
