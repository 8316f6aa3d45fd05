"""Account services: the only code that creates users' profiles."""

from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import User, UserProfile


def profile_create(*, user: User, role: str, display_name: str = "") -> UserProfile:
    """Give `user` a profile with `role` (buyer or contractor)."""
    if role not in UserProfile.Role.values:
        raise ValueError(f"Unknown role '{role}'.")
    return UserProfile.objects.create(user=user, role=role, display_name=display_name)


@transaction.atomic
def user_signup(
    *, email: str, password: str, role: str, display_name: str = "", active: bool = True
) -> User:
    """Create a user and their profile together: either both rows exist or neither.

    Stripe side effects (a buyer's Customer, a contractor's connected account) are
    Celery tasks scheduled on commit, so they never run for a rolled-back sign-up.
    """
    user = User.objects.create_user(email=email, password=password, is_active=active)
    profile_create(user=user, role=role, display_name=display_name)
    from payments.tasks import account_create_task, customer_create_task

    task = customer_create_task if role == UserProfile.Role.BUYER else account_create_task
    transaction.on_commit(lambda: task.delay(user.pk))
    return user


class SignInLinkTokens(PasswordResetTokenGenerator):
    """One-time sign-in links: a token is void once the user has logged in (it hashes
    last_login) and after PASSWORD_RESET_TIMEOUT (3 days)."""

    key_salt = "accounts.services.SignInLinkTokens"


sign_in_tokens = SignInLinkTokens()


def sign_in_link(user: User) -> str:
    """The path of a one-time link that signs `user` in (sent by email)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("accounts:signup_confirm", args=[uid, sign_in_tokens.make_token(user)])


def signup_request(*, email: str, password: str, role: str, display_name: str = "") -> None:
    """A sign-up form was sent: create the account, or tell the address's owner.

    Both cases answer the same way ("check your email"), so the form cannot be used to
    learn who has an account. A new account gets a one-time link that signs it in (and
    so proves the address); an existing one gets a note that someone tried, at most one
    an hour. The password is hashed either way so that both take the same time.
    """
    from notifications.services import notify

    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        # Inactive until the link is used: else logging in with the password just chosen
        # would tell whether the address was new.
        try:
            user = user_signup(
                email=email, password=password, role=role, display_name=display_name, active=False
            )
        except IntegrityError:  # the same address signed up a moment ago, in parallel
            return
        notify(
            recipient=user,
            kind="signup_confirm",
            key="signup",
            context={"role": role},
            link=sign_in_link(user),
        )
        return
    make_password(password)
    notify(
        recipient=existing,
        kind="signup_existing",
        key=timezone.now().strftime("%Y-%m-%dT%H"),
        context={},
        link=reverse("accounts:login"),
    )


def signup_confirm(*, user: User) -> User:
    """The emailed link was used: the address is proven, the account becomes active.

    Only an account that never logged in is activated here, so an old link cannot
    bring back an account that staff deactivated later (its token is void anyway once
    the user has logged in).
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_active and locked.last_login is None:
            locked.is_active = True
            locked.save(update_fields=["is_active"])
    return locked
