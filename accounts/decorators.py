"""View decorators other apps use to require a proven email address."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse

from .selectors import email_verified

CHECKOUT_WHY = (
    "Please confirm your email address before your first checkout: your receipts, "
    "refunds and order updates go there."
)
ONBOARDING_WHY = (
    "Please confirm your email address before you set up payouts: Stripe and we send "
    "your payout and account notices there."
)


def verify_url(next_url: str = "") -> str:
    """The page that says why the address must be proven and sends the link; after the
    link, the person comes back to `next_url` (a path on this site)."""
    path = reverse("accounts:email_verify")
    return f"{path}?{urlencode({'next': next_url})}" if next_url else path


def verified_email_required(why: str, *, back: str | None = None):
    """Send a person without a proven address to `verify_url` (with `why` as a message),
    then back to this page, or to the URL named `back` (use it for POST-only views,
    e.g. `back="shop:cart"` for the checkout). Anonymous visitors log in first."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not email_verified(request.user):
                messages.warning(request, why)
                return redirect(verify_url(reverse(back) if back else request.get_full_path()))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
