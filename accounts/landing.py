"""Where a person lands after logging in: somewhere their role has work to do."""

from django.http import HttpRequest
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme

# The shop's pages for buyers (and visitors). A contractor or staff member who logged
# in from one of them lands on their own page instead: they cannot buy.
SHOPPING_PAGES = {
    "product_list",
    "product_detail",
    "storefront",
    "cart",
    "checkout_start",
    "checkout_pay",
    "checkout_done",
    "order_list",
    "order_detail",
}


def safe_next(request: HttpRequest, url: str | None) -> str:
    """`url` if it is a path on this site (never another host), else ""."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def is_shopping_page(url: str) -> bool:
    try:
        match = resolve(url.split("?", 1)[0])
    except Resolver404:
        return False
    return match.namespace == "shop" and match.url_name in SHOPPING_PAGES


def landing_url(user, next_url: str = "") -> str:
    """A buyer goes back to `next_url` (the page they came from) or to the shop; a
    contractor to `next_url` unless it is a shopping page, else to their dashboard;
    staff likewise, else to admin. `next_url` must already be known to be safe."""
    profile = getattr(user, "profile", None)
    if profile is not None and profile.is_buyer:
        return next_url or reverse("shop:product_list")
    if next_url and not is_shopping_page(next_url):
        return next_url
    if profile is not None and profile.is_contractor:
        return reverse("accounts:dashboard")
    if user.is_staff:
        return reverse("admin:index")
    return reverse("accounts:profile")
