"""Buyers' Stripe Customers: their saved cards, and their email kept in step."""

import datetime
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.models import CustomerEmailSync, UserProfile
from core import outbox
from core.statemachine import transition
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


def card_expired(*, exp_month: int, exp_year: int, today: datetime.date | None = None) -> bool:
    """A card works until the end of its expiry month."""
    today = today or timezone.localdate()
    return (exp_year, exp_month) < (today.year, today.month)


def saved_card(method: dict, default: str | None = None) -> dict:
    """One saved card as the pages show it: {id, brand, last4, exp, exp_month,
    exp_year, expired, default}."""
    card = method.get("card") or {}
    month, year = int(card.get("exp_month") or 0), int(card.get("exp_year") or 0)
    return {
        "id": method["id"],
        "brand": card.get("brand", "card"),
        "last4": card.get("last4", ""),
        "exp": f"{month:02d}/{year % 100:02d}",
        "exp_month": month,
        "exp_year": year,
        "expired": card_expired(exp_month=month, exp_year=year),
        "default": method["id"] == default,
    }


def _saved_cards_read(customer: str) -> dict:
    """The customer's cards and which is their default (asked only when there are
    cards to choose from)."""
    methods = gateway.customer_payment_methods(customer=customer)
    if not methods:
        return {"methods": [], "default": None}
    invoice_settings = gateway.customer_retrieve(customer=customer).get("invoice_settings") or {}
    return {"methods": methods, "default": invoice_settings.get("default_payment_method")}


def buyer_saved_cards(*, user_id: int) -> list[dict]:
    """Cards the buyer saved on their Customer (see `saved_card`), the default first
    (from the read `saved_cards_read_alongside` made for this page, if it did)."""
    read = cache.get(_cards_key(user_id))
    if read is not None:
        cache.delete(_cards_key(user_id))  # a read made for this page, used once
    else:
        profile = UserProfile.objects.get(user_id=user_id)
        if not profile.stripe_id.startswith("cus_"):
            return []
        read = _saved_cards_read(profile.stripe_id)
    cards = [saved_card(method, read["default"]) for method in read["methods"]]
    return sorted(cards, key=lambda card: not card["default"])


def buyer_card_preselected(cards: list[dict]) -> str:
    """The card a payment form starts with: the default unless it expired, else the
    first card that has not ("" when none may be chosen)."""
    usable = [card for card in cards if not card["expired"]]
    return next((c["id"] for c in usable if c["default"]), usable[0]["id"] if usable else "")


@contextmanager
def saved_cards_read_alongside(*, user_id: int) -> Iterator[None]:
    """Read the buyer's saved cards (and their default) from Stripe while the body runs
    (the pay page's other Stripe call, its PaymentIntent), so the page waits for one
    round trip, not two; `buyer_saved_cards` then answers from that read, once, within
    a few seconds.

    Only the calls leave this thread. A buyer without a Customer yet has no card;
    a read that fails is forgotten (the page asks again, or shows no saved card).
    """
    customer = (
        UserProfile.objects.filter(user_id=user_id).values_list("stripe_id", flat=True).first()
        or ""
    )
    if not customer.startswith("cus_"):
        yield
        cache.set(
            _cards_key(user_id), {"methods": [], "default": None}, settings.STRIPE_SYNC_MIN_SECONDS
        )
        return
    pool = ThreadPoolExecutor(max_workers=1)
    read = pool.submit(_saved_cards_read, customer)
    try:
        yield
    finally:
        pool.shutdown(wait=True)
    if read.exception() is None:
        cache.set(_cards_key(user_id), read.result(), settings.STRIPE_SYNC_MIN_SECONDS)


# --- The Customer's email follows the account's ------------------------------------


def customer_email_sync_request(*, user_id: int, email: str) -> CustomerEmailSync | None:
    """Record that the buyer's Stripe Customer must get `email`, and send it to a worker
    once the caller's transaction commits (call it in the transaction that changed the
    address). None for an account without a Customer: it is created with the new
    address when it is needed."""
    customer = (
        UserProfile.objects.filter(user_id=user_id, stripe_id__startswith="cus_")
        .values_list("stripe_id", flat=True)
        .first()
    )
    if not customer:
        return None
    sync = CustomerEmailSync.objects.create(
        user_id=user_id, customer=customer, email=email, **outbox.first_dispatch()
    )
    from payments import tasks

    outbox.enqueue_on_commit(tasks.customer_email_sync_task, sync.pk)
    return sync


def customer_email_sync(*, sync_id: int) -> str:
    """Send one recorded address to Stripe (retry-safe: the key is the row's).

    An older row than the buyer's latest is superseded, not sent: workers may run them
    in any order, and the Customer must end with the latest address. Stripe refusing
    the update (the Customer is gone) marks the row failed for a person to look at.
    """
    sync = CustomerEmailSync.objects.get(pk=sync_id)
    if sync.status != CustomerEmailSync.Status.PENDING:
        return sync.status
    newer = CustomerEmailSync.objects.filter(user_id=sync.user_id, pk__gt=sync.pk).exclude(
        status=CustomerEmailSync.Status.FAILED
    )
    if newer.exists():
        return _email_sync_finish(sync.pk, CustomerEmailSync.Status.SUPERSEDED)
    try:
        gateway.customer_email_update(
            customer=sync.customer, email=sync.email, idempotency_key=f"customer-email-{sync.pk}"
        )
    except gateway.GatewayRejected as exc:
        return _email_sync_finish(sync.pk, CustomerEmailSync.Status.FAILED, error=str(exc))
    return _email_sync_finish(sync.pk, CustomerEmailSync.Status.DONE)


def _email_sync_finish(sync_id: int, status: str, error: str = "") -> str:
    with transaction.atomic():
        transition(CustomerEmailSync, sync_id, status, changes={"last_error": error})
    return status
