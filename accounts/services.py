"""Account services: the only code that creates users' profiles."""

from django.db import transaction

from .models import User, UserProfile


def profile_create(*, user: User, role: str, display_name: str = "") -> UserProfile:
    """Give `user` a profile with `role` (buyer or contractor)."""
    if role not in UserProfile.Role.values:
        raise ValueError(f"Unknown role '{role}'.")
    return UserProfile.objects.create(user=user, role=role, display_name=display_name)


@transaction.atomic
def user_signup(*, email: str, password: str, role: str, display_name: str = "") -> User:
    """Create a user and their profile together: either both rows exist or neither.

    Stripe side effects (a buyer's Customer, a contractor's connected account) are
    Celery tasks scheduled on commit, so they never run for a rolled-back sign-up.
    """
    user = User.objects.create_user(email=email, password=password)
    profile_create(user=user, role=role, display_name=display_name)
    from payments.tasks import account_create_task, customer_create_task

    task = customer_create_task if role == UserProfile.Role.BUYER else account_create_task
    transaction.on_commit(lambda: task.delay(user.pk))
    return user
