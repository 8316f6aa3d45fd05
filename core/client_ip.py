"""The client's address, trusting X-Forwarded-For only as far as NUM_PROXIES says."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address of whoever sent `request`, as the proxies in front of us saw it.

    Each trusted proxy appends the address it received from to X-Forwarded-For, so the
    client is the NUM_PROXIES-th entry from the right; anything to its left was written
    by the client and is ignored. With no proxies the header is ignored altogether.
    The same rule as DRF's throttles (REST_FRAMEWORK["NUM_PROXIES"]).
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
    if not addresses:
        return remote
    return addresses[-min(proxies, len(addresses))]
