"""One-time links we email: each kind of token is void once it has done its work, and
after PASSWORD_RESET_TIMEOUT (3 days).

Django's password-reset tokens hash what the link changes (the password, the last
login), so using a link voids it. The tokens here do the same with what *they* change.
"""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from .models import User


class SignInLinkTokens(PasswordResetTokenGenerator):
    """The sign-up link: void once the user has logged in (it hashes last_login)."""

    key_salt = "accounts.services.SignInLinkTokens"


class EmailVerificationTokens(PasswordResetTokenGenerator):
    """A "confirm your address" link: void once the address is confirmed or changed."""

    key_salt = "accounts.tokens.EmailVerificationTokens"

    def _make_hash_value(self, user, timestamp):
        verified = "" if user.email_verified_at is None else user.email_verified_at.isoformat()
        return f"{user.pk}{user.email}{verified}{timestamp}"


sign_in_tokens = SignInLinkTokens()
verification_tokens = EmailVerificationTokens()

EMAIL_CHANGE_SALT = "accounts.tokens.email_change"


def uid_encode(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def user_for_token(uidb64: str, token: str, tokens: PasswordResetTokenGenerator) -> User | None:
    """The user a (uid, token) link names, if the token is still good for them."""
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    return user if tokens.check_token(user, token) else None


def _account_state(user: User) -> str:
    # Changes when the address or the password changes: a change link works once, and
    # not at all after the password was reset (e.g. by someone recovering the account).
    return salted_hmac(EMAIL_CHANGE_SALT, f"{user.email}|{user.password}").hexdigest()[:32]


def email_change_token(user: User, new_email: str) -> str:
    """A signed, timestamped token naming the user and the address they asked for."""
    payload = {"u": user.pk, "e": new_email, "s": _account_state(user)}
    return signing.dumps(payload, salt=EMAIL_CHANGE_SALT, compress=True)


def email_change_read(token: str) -> tuple[User, str] | None:
    """(user, new address) for a change token still good, else None."""
    try:
        payload = signing.loads(
            token, salt=EMAIL_CHANGE_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT
        )
        user = User.objects.get(pk=int(payload["u"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError, User.DoesNotExist):
        return None
    if not constant_time_compare(str(payload.get("s", "")), _account_state(user)):
        return None
    return user, str(payload["e"])
