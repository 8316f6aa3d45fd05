"""Webhooks: verifying what Stripe sends, and the endpoints it sends it to."""

from __future__ import annotations

import json

import stripe

from . import _core
from ._core import having, nothing, translated_errors, write
from .errors import WebhookSignatureInvalid
from .version import PINNED_API_VERSION


def webhook_event_construct(*, payload: bytes, signature: str, secret: str) -> dict:
    """Verify a webhook's signature (300 s tolerance) and parse it, or raise.

    The SDK checks the signature; the body is then parsed as plain JSON rather than
    built into SDK objects and converted back, which was a quarter of the ingest
    view's CPU time (bench/README.md).
    """
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, secret, tolerance=300
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise WebhookSignatureInvalid(str(exc)) from exc
    except RecursionError as exc:
        # A validly signed body nested thousands deep: Python's parser gives up.
        raise WebhookSignatureInvalid("The body is nested too deeply to be an event.") from exc
    if not isinstance(event, dict):
        raise WebhookSignatureInvalid("The body is not a JSON object.")
    return event


def webhook_endpoint_list() -> list[dict]:
    """Every webhook endpoint of the platform account (Stripe allows 16)."""
    with translated_errors("webhook_endpoint_list"):
        listing = _core.stripe_client().v1.webhook_endpoints.list({"limit": 100})
        return [endpoint.to_dict() for endpoint in listing.auto_paging_iter()]


def webhook_endpoint_create(
    *,
    url: str,
    enabled_events: list[str],
    connect: bool,
    description: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> dict:
    """A new endpoint in the pinned API version. Its answer is the only one that
    carries the endpoint's signing `secret`."""
    params: stripe.params.WebhookEndpointCreateParams = {
        "url": url,
        "enabled_events": enabled_events,  # type: ignore[typeddict-item]  # a Literal list
        "connect": connect,
        "api_version": PINNED_API_VERSION,
        "description": description,
        "metadata": metadata,
    }
    return write(
        "webhook_endpoint_create",
        idempotency_key,
        lambda options: _core.stripe_client().v1.webhook_endpoints.create(params, options),
        # The version too: an older endpoint at the same URL (the one being replaced,
        # its secret deployed) is not the one this call made.
        lambda: having(
            webhook_endpoint_list(), url=url, metadata=metadata, api_version=PINNED_API_VERSION
        ),
    )


def webhook_endpoint_update(
    *,
    endpoint: str,
    url: str,
    enabled_events: list[str],
    description: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> dict:
    """Bring an endpoint's URL, events and description in line, and enable it. Its
    API version and `connect` stay: Stripe's update has no such parameters."""
    params: stripe.params.WebhookEndpointUpdateParams = {
        "url": url,
        "enabled_events": enabled_events,  # type: ignore[typeddict-item]  # a Literal list
        "description": description,
        "metadata": metadata,
        "disabled": False,
    }
    return write(
        "webhook_endpoint_update",
        idempotency_key,
        lambda options: _core.stripe_client().v1.webhook_endpoints.update(
            endpoint, params, options
        ),
        nothing,  # it sets values
    )


def webhook_endpoint_delete(*, endpoint: str) -> dict:
    """Delete an endpoint. Stripe takes no idempotency key on a DELETE (it is
    idempotent itself: a second one answers resource_missing)."""
    with translated_errors("webhook_endpoint_delete"):
        deleted = _core.stripe_client().v1.webhook_endpoints.delete(endpoint)
        return deleted.to_dict()
