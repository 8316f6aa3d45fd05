"""Events: retrieve and list (the webhook payloads, kept for 30 days on Stripe)."""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from ..lists import list_object
from ..sandbox import Ctx
from ..store import Obj
from .common import Endpoint, fetch


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return fetch(ctx, "event", id)


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    wanted = set(params.get("types") or [])
    if params.get("type"):
        wanted.add(params["type"])
    prefixes = tuple(t[:-1] for t in wanted if t.endswith("*"))
    exact = {t for t in wanted if not t.endswith("*")}

    def matches(event: Obj) -> bool:
        return not wanted or event["type"] in exact or event["type"].startswith(prefixes or ("\0",))

    items = ctx.store.select("event", ctx.account, matches)
    return list_object("/v1/events", items, params)


ROUTES = [
    Endpoint("GET", "/v1/events", list_all, sp.EventListParams),
    Endpoint("GET", "/v1/events/{id}", retrieve, sp.EventRetrieveParams),
]
