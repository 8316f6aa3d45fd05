"""Webhook endpoints registered through the API; the sandbox delivers to them too.

As on Stripe: ``connect=true`` endpoints receive events from connected accounts,
the others the platform's own; ``api_version`` is fixed at creation (the update
endpoint has no such parameter) and defaults to the account's version; an
unknown version is refused by the parameter validator (the SDK lists every
version that exists); the signing ``secret`` is in the creation answer only.
Neither ``connect`` nor the secret is readable afterwards.
"""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from .. import ids
from ..errors import invalid_request
from ..lists import list_object
from ..sandbox import API_VERSION, Ctx
from ..store import Obj
from .common import Endpoint, apply_metadata, fetch, update_fields


def _check_url(url: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise invalid_request(
            "Invalid URL: URL must be publicly accessible.", param="url", code="url_invalid"
        )


def create(ctx: Ctx, params: dict[str, Any]) -> Obj:
    url = params["url"]
    _check_url(url)
    secret = ids.webhook_secret()
    endpoint: Obj = {
        "id": ids.new_id("we"),
        "object": "webhook_endpoint",
        "api_version": params.get("api_version") or API_VERSION,
        "application": None,
        "created": ctx.now(),
        "description": params.get("description"),
        "enabled_events": list(params["enabled_events"]),
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "status": "enabled",
        "url": url,
        "_secret": secret,
        "_connect": bool(params.get("connect")),
    }
    ctx.store.add(endpoint, ctx.account)
    # The signing secret is only ever shown in the creation response.
    return {**endpoint, "secret": secret}


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return fetch(ctx, "webhook_endpoint", id)


def update(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    endpoint = fetch(ctx, "webhook_endpoint", id)
    if "url" in params:
        _check_url(params["url"])
    update_fields(endpoint, params, ("description", "url", "enabled_events"))
    apply_metadata(endpoint, params.get("metadata"))  # Stripe's update takes it too
    if "disabled" in params:
        endpoint["status"] = "disabled" if params["disabled"] else "enabled"
    ctx.store.touch(endpoint)
    return endpoint


def delete(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    fetch(ctx, "webhook_endpoint", id)
    ctx.store.remove(id)
    return {"id": id, "object": "webhook_endpoint", "deleted": True}


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    return list_object(
        "/v1/webhook_endpoints", ctx.store.select("webhook_endpoint", ctx.account), params
    )


ROUTES = [
    Endpoint("POST", "/v1/webhook_endpoints", create, sp.WebhookEndpointCreateParams),
    Endpoint("GET", "/v1/webhook_endpoints", list_all, sp.WebhookEndpointListParams),
    Endpoint("GET", "/v1/webhook_endpoints/{id}", retrieve, sp.WebhookEndpointRetrieveParams),
    Endpoint("POST", "/v1/webhook_endpoints/{id}", update, sp.WebhookEndpointUpdateParams),
    Endpoint("DELETE", "/v1/webhook_endpoints/{id}", delete, sp.WebhookEndpointDeleteParams),
]
