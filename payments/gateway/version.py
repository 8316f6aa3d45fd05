"""The Stripe API version the shop is written for, and which others it accepts.

Every request the gateway builds and every webhook payload the handlers read
has the shape of one API version: the one the installed `stripe` package's
types describe (`allowed_payment_method_types` on a PaymentIntent, for one,
does not exist in older versions, and Stripe refuses it there). So the version
is pinned here; `STRIPE_API_VERSION` may name the pinned version or a newer one
(a deliberate upgrade under test), never an older one. `payments/checks.py`
refuses an older one at start-up, and the gateway refuses to build a client
with it (processes that run no system checks: gunicorn, Celery).
"""

from __future__ import annotations

import re
from typing import Final

# Keep equal to `stripe.api_version` of the installed SDK (a test says so): bump
# both together, after reading Stripe's upgrade notes for the versions between.
PINNED_API_VERSION: Final = "2026-10-28.endive"

_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.([a-z]+))?$")


def api_version_problem(version: str) -> str | None:
    """Why `version` may not be used, or None when it may."""
    found = _VERSION.match(version or "")
    if found is None:
        return (
            f"STRIPE_API_VERSION {version!r} is not a Stripe API version "
            f"(like {PINNED_API_VERSION!r})."
        )
    pinned_date = PINNED_API_VERSION.split(".")[0]
    if found.group(1) == pinned_date and version != PINNED_API_VERSION:
        return f"STRIPE_API_VERSION {version!r} is another release than {PINNED_API_VERSION!r}."
    if found.group(1) < pinned_date:
        return (
            f"STRIPE_API_VERSION {version!r} is older than {PINNED_API_VERSION!r}, the version "
            "the shop's requests and webhook handlers are written for (older versions lack "
            "fields they use, such as allowed_payment_method_types). Unset it, or set "
            f"{PINNED_API_VERSION!r}."
        )
    return None


def is_newer_than_pinned(version: str) -> bool:
    return api_version_problem(version) is None and version != PINNED_API_VERSION
