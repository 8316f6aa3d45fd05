"""Each user's one Stripe object (a buyer's Customer, a contractor's connected
account): created once, its id stored on the profile."""

from collections.abc import Callable

from django.db import transaction

from accounts.models import UserProfile


def profile_stripe_object_ensure(
    *, user_id: int, role: str, kind: str, create: Callable[[UserProfile], dict]
) -> tuple[str, dict | None]:
    """The profile's Stripe id, calling `create(profile)` to make its object if it
    has none; returns (id, the object this call made, or None).

    Safe to call from a sign-up task and a page at the same time: `create` passes an
    idempotency key derived from the user, so Stripe returns the same object to
    both, and only the first writer stores its id (under a lock on the profile,
    taken after the Stripe call, never during it).
    """
    profile = UserProfile.objects.select_related("user").get(user_id=user_id)
    if profile.stripe_id:
        return profile.stripe_id, None
    if profile.role != role:
        raise ValueError(f"Only {role}s have {kind}.")
    created = create(profile)
    with transaction.atomic():
        locked = UserProfile.objects.select_for_update().get(pk=profile.pk)
        if not locked.stripe_id:
            locked.stripe_id = created["id"]
            locked.save(update_fields=["stripe_id", "updated_at"])
    return locked.stripe_id, created
