"""Buyers' Stripe Customers."""

from accounts.models import UserProfile
from payments import gateway

from .profiles import profile_stripe_object_ensure


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
