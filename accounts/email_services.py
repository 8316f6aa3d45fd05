"""A person's email address: proving it works, changing it, and telling them when their
password or address changed.

The address matters beyond logging in: receipts, refunds and payout notices go there,
and Stripe gets it for a buyer's Customer and a contractor's connected account. So a
buyer's first checkout and a contractor's onboarding wait until it is proven
(`accounts.selectors.email_verified`).
"""

from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from .mail import account_email_send, email_allowed
from .models import User
from .tokens import email_change_read, email_change_token, uid_encode, verification_tokens


class EmailChangeError(Exception):
    """Why an address cannot be changed, in words for the person changing it."""


def email_verification_send(*, user: User, next_url: str = "") -> bool:
    """Email `user` a one-time link that proves their address.

    Returns False (and sends nothing) when the address is already proven or when it
    was sent this link too often in the last hour. `next_url` (a path) is where the
    link leads once used.
    """
    if user.email_verified_at is not None or not email_allowed("verify", user.email):
        return False
    link = reverse(
        "accounts:email_verify_confirm",
        args=[uid_encode(user), verification_tokens.make_token(user)],
    )
    if next_url:
        link += "?" + urlencode({"next": next_url})
    account_email_send(to=user.email, template="email_verify", context={"link": link})
    return True


def email_verification_confirm(*, user: User) -> User:
    """The emailed link was used: the address is proven (once; later uses change nothing)."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.email_verified_at is None:
            locked.email_verified_at = timezone.now()
            locked.save(update_fields=["email_verified_at"])
    return locked


def email_change_request(*, user: User, new_email: str) -> None:
    """Email the new address a link that makes it the account's address when used.

    Nothing changes until then: a typo or an address that is not the person's own
    never becomes where receipts and resets go. An address that belongs to another
    account is told so instead (and the person asking is answered the same way, so
    the form cannot be used to find out who has an account).
    """
    new_email = new_email.strip().lower()
    if new_email == user.email.lower():
        raise EmailChangeError("That is already your email address.")
    if not email_allowed("change", new_email):
        return
    if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        account_email_send(
            to=new_email,
            template="email_change_taken",
            context={"link": reverse("accounts:password_reset")},
        )
        return
    link = reverse("accounts:email_change_confirm", args=[email_change_token(user, new_email)])
    account_email_send(
        to=new_email,
        template="email_change_confirm",
        context={"link": link, "old_email": user.email, "new_email": new_email},
    )


def email_change_confirm(*, token: str) -> User:
    """Make the address a change link names the account's (proven) address.

    The token is checked again under the user's row lock, so a link works once even
    when opened twice at the same moment. The old address is told of the change.
    """
    with transaction.atomic():
        found = email_change_read(token)
        if found is None:
            raise EmailChangeError("This link no longer works.")
        user = User.objects.select_for_update().get(pk=found[0].pk)
        if email_change_read(token) is None:  # used meanwhile: the state it hashes moved
            raise EmailChangeError("This link no longer works.")
        old_email, new_email = user.email, found[1]
        if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
            raise EmailChangeError("This address now belongs to another account.")
        user.email = new_email
        user.email_verified_at = timezone.now()
        try:
            with transaction.atomic():
                user.save(update_fields=["email", "email_verified_at"])
        except IntegrityError:  # taken a moment ago, by a sign-up in parallel
            raise EmailChangeError("This address now belongs to another account.") from None
        # Receipts follow the address: the buyer's Stripe Customer gets it (a row the
        # outbox sends, written in this transaction so the change cannot lose it).
        from payments.services.customers import customer_email_sync_request

        customer_email_sync_request(user_id=user.pk, email=new_email)
        account_email_send(
            to=old_email,
            template="email_changed",
            context={"old_email": old_email, "new_email": new_email},
        )
    return user


def password_changed_notify(*, user: User) -> None:
    """Tell the account's address that its password changed (by a reset or a change),
    so a change the owner did not make does not go unnoticed."""
    account_email_send(
        to=user.email,
        template="password_changed",
        context={"link": reverse("accounts:password_reset")},
    )
