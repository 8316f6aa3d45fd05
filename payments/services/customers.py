"""Buyers' Stripe Customers."""

from django.db import transaction

from accounts.models import UserProfile
from payments import gateway


def buyer_customer_ensure(*, user_id: int) -> str:
    """The buyer's `cus_…` id, creating the Stripe Customer once if there is none.

    Safe to call from the sign-up task and from checkout at the same time: the
    idempotency key is derived from the user, so Stripe returns the same customer
    to both, and only the first writer stores it.
    """
    profile = UserProfile.objects.select_related("user").get(user_id=user_id)
    if profile.stripe_id:
        return profile.stripe_id
    if profile.role != UserProfile.Role.BUYER:
        raise ValueError("Only buyers have a Stripe Customer.")
    customer = gateway.customer_create(
        email=profile.user.email,
        name=profile.name,
        user_id=user_id,
        idempotency_key=f"user-{user_id}-customer",
    )
    with transaction.atomic():
        locked = UserProfile.objects.select_for_update().get(pk=profile.pk)
        if not locked.stripe_id:
            locked.stripe_id = customer["id"]
            locked.save(update_fields=["stripe_id", "updated_at"])
    return locked.stripe_id


def buyer_saved_cards(*, user_id: int) -> list[dict]:
    """Cards the buyer saved on their Customer, as {id, brand, last4, exp} dicts."""
    profile = UserProfile.objects.get(user_id=user_id)
    if not profile.stripe_id:
        return []
    cards = []
    for method in gateway.customer_payment_methods(customer=profile.stripe_id):
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
