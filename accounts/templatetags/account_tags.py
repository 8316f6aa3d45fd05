"""Who may shop, said on the shop's pages before anyone fills a cart.

Contractor accounts sell; they cannot buy (the checkout refuses every account but a
buyer's). Rather than let a contractor fill a cart and be refused at checkout, the
product page, the cart and the checkout pages say so up front, with the way out: a
buyer account. A buyer whose address is not proven yet is told on the cart that the
checkout will ask for it.
"""

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from accounts.selectors import can_shop as user_can_shop
from accounts.selectors import email_verified

register = template.Library()

# The pages where buying happens (shop namespace): the notice shows there only.
BUYING_PAGES = {"product_detail", "cart", "checkout_start", "checkout_pay", "checkout_done"}
CHECKOUT_PAGES = {"cart", "checkout_start"}


def _profile(user):
    if user is None or not user.is_authenticated:
        return None
    return getattr(user, "profile", None)


@register.simple_tag(takes_context=True)
def can_shop(context) -> bool:
    """`{% can_shop as allowed %}`: whether this visitor may put things in a cart."""
    return user_can_shop(context.get("user"))


@register.simple_tag(takes_context=True)
def login_url(context) -> str:
    """The login page, bringing the visitor back to this page afterwards (not from the
    account pages themselves: after logging in there is nothing to do on them)."""
    url = reverse("accounts:login")
    request = context.get("request")
    if request is None or request.path.startswith("/accounts/"):
        return url
    return f"{url}?{urlencode({'next': request.get_full_path()})}"


def _page(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "shop":
        return ""
    return match.url_name or ""


@register.inclusion_tag("accounts/_shopping_notice.html", takes_context=True)
def shopping_notice(context, force: bool = False):
    """The notice for who cannot buy (or must confirm their address first), on the
    pages where buying happens, or wherever it is placed with `force=True`."""
    user = context.get("user")
    request = context.get("request")
    page = _page(request)
    if not force and page not in BUYING_PAGES:
        return {"kind": ""}
    if not user_can_shop(user):
        profile = _profile(user)
        kind = "contractor" if profile is not None and profile.is_contractor else "not_buyer"
        return {"kind": kind, "request": request}
    if (force or page in CHECKOUT_PAGES) and user.is_authenticated and not email_verified(user):
        return {"kind": "unverified", "request": request, "email": user.email}
    return {"kind": ""}
