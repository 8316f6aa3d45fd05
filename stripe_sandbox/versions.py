"""Stripe API versions: the ones that exist, and the sandbox's default.

The installed ``stripe`` package lists every API version a webhook endpoint may
be created with (``WebhookEndpointCreateParams.api_version``); that list is what
"a version Stripe knows" means here. A request with any other ``Stripe-Version``
is refused the way Stripe refuses it: 400 "Invalid Stripe API version: …".
"""

from __future__ import annotations

from functools import cache

import stripe
import stripe.params as sp

from .errors import invalid_request
from .wire.params import object_schema, resolve

# The account's default API version: what events are rendered in unless a webhook
# endpoint asks for another, and what the SDK's types describe.
DEFAULT = stripe.api_version


@cache
def known() -> frozenset[str]:
    node = object_schema(sp.WebhookEndpointCreateParams).fields["api_version"]
    return resolve(node).values


def check_header(version: str | None) -> None:
    """Refuse a ``Stripe-Version`` header naming no API version Stripe has."""
    if version is not None and version.strip() not in known():
        raise invalid_request(f"Invalid Stripe API version: {version}")
