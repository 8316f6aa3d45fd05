"""Account services: the only code that creates users' profiles."""

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from .mail import account_email_send, email_allowed
from .models import User, UserProfile
from .tokens import sign_in_tokens, uid_encode


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

    An active user's Stripe side (a buyer's Customer, a contractor's connected
    account) is a Celery task scheduled on commit, so it never runs for a rolled-back
    sign-up. An inactive one (a sign-up waiting for its emailed link) gets it once
    the link proves the address (`signup_confirm`): a typo or a stranger's address
    leaves nothing behind at Stripe.
    """
    user = User.objects.create_user(email=email, password=password, is_active=active)
    profile_create(user=user, role=role, display_name=display_name)
    if active:
        _stripe_side_ask(user, role)
    return user


def _stripe_side_ask(user: User, role: str) -> None:
    """(On commit) Make the user's Stripe object ahead of need. Only a head start:
    checkout, saved cards and onboarding make it on demand if this has not run."""
    from payments.tasks import account_create_task, customer_create_task

    task = customer_create_task if role == UserProfile.Role.BUYER else account_create_task
    transaction.on_commit(lambda: task.delay(user.pk))


def sign_in_link(user: User) -> str:
    """The path of a one-time link that signs `user` in (sent by email).

    Void once the user has logged in (the token hashes last_login), when the password
    changes, and after PASSWORD_RESET_TIMEOUT (3 days).
    """
    return reverse(
        "accounts:signup_confirm", args=[uid_encode(user), sign_in_tokens.make_token(user)]
    )


def signup_request(*, email: str, password: str, role: str, display_name: str = "") -> None:
    """A sign-up form was sent: create the account, or tell the address's owner.

    Both cases answer the same way ("check your email"), so the form cannot be used to
    learn who has an account. A new account gets a one-time link that signs it in (and
    so proves the address), by an account email, so the link is never stored; an
    account still waiting for its first link gets a new one (see `_signup_resend`); any
    other gets a note that someone tried, at most one an hour. The password is hashed
    in every case so that all take the same time.
    """
    from notifications.services import notify

    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and _never_confirmed(existing):
        _signup_resend(existing, password=password, role=role)
        return
    if existing is None:
        # Inactive until the link is used: else logging in with the password just chosen
        # would tell whether the address was new.
        try:
            user = user_signup(
                email=email, password=password, role=role, display_name=display_name, active=False
            )
        except IntegrityError:  # the same address signed up a moment ago, in parallel
            return
        _sign_in_link_send(user, role=role)
        return
    make_password(password)
    notify(
        recipient=existing,
        kind="signup_existing",
        key=timezone.now().strftime("%Y-%m-%dT%H"),
        context={},
        link=reverse("accounts:login"),
    )


def _never_confirmed(user: User) -> bool:
    return not user.is_active and user.last_login is None


def _signup_resend(user: User, *, password: str, role: str) -> None:
    """Signing up again before the first link was used: the newest sign-up wins.

    Its password replaces the earlier one, which voids every earlier link (their
    tokens hash the password): whoever signed up with someone else's address first
    cannot have that person confirm an account whose password the intruder knows.
    A fresh link goes out, at most one an hour.
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not _never_confirmed(locked):
            return
        locked.set_password(password)
        locked.save(update_fields=["password"])
        if email_allowed("signup-again", locked.email, per_hour=1):
            role = getattr(getattr(locked, "profile", None), "role", role)
            _sign_in_link_send(locked, role=role)


def _sign_in_link_send(user: User, *, role: str) -> None:
    # An account email, not a notification: a notification is kept in the database and
    # shown in admin, and this link signs its holder in (see accounts/mail.py).
    account_email_send(
        to=user.email,
        template="signup_confirm",
        context={"role": role, "link": sign_in_link(user)},
    )


def signup_confirm(*, user: User) -> User:
    """The emailed link was used: the address is proven, the account becomes active.

    Only an account that never logged in is activated here, so an old link cannot
    bring back an account that staff deactivated later (its token is void anyway once
    the user has logged in).
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if _never_confirmed(locked):
            locked.is_active = True
            # The link reached the address: it is proven.
            locked.email_verified_at = locked.email_verified_at or timezone.now()
            locked.save(update_fields=["is_active", "email_verified_at"])
            _stripe_side_ask(locked, locked.profile.role)
    return locked
