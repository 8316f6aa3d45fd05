"""Helpers shared by the resource modules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import invalid_request, resource_missing
from ..sandbox import Ctx
from ..store import Obj

Handler = Callable[..., Obj]


@dataclass(frozen=True)
class Endpoint:
    """One API route: ``path`` uses ``{name}`` placeholders for ids.

    ``params`` is the `stripe.params` TypedDict the request is validated
    against; ``publishable`` routes also accept a ``pk_test_`` key (with the
    object's ``client_secret``), as Stripe.js needs, and are the only ones that
    answer cross-origin (CORS) - to requests that bring no secret key.
    """

    method: str
    path: str
    handler: Handler
    params: type
    publishable: bool = False
    multipart: bool = False


NOUNS = {
    "customer": "customer",
    "payment_method": "PaymentMethod",
    "payment_intent": "payment_intent",
    "setup_intent": "setup_intent",
    "charge": "charge",
    "refund": "refund",
    "account": "account",
    "file": "file upload",
    "transfer": "transfer",
    "transfer_reversal": "transfer reversal",
    "application_fee": "application fee",
    "fee_refund": "application fee refund",
    "payout": "payout",
    "event": "event",
    "webhook_endpoint": "webhook endpoint",
    "balance_transaction": "balance transaction",
}


def fetch(ctx: Ctx, kind: str, object_id: str, *, param: str | None = "id") -> Obj:
    """The object of ``kind`` in the caller's scope, or Stripe's 404."""
    obj = ctx.store.get(object_id, kind)
    if obj is None or obj.get("_account") != ctx.account:
        raise resource_missing(NOUNS.get(kind, kind), object_id, param=param)
    return obj


def fetch_param(ctx: Ctx, kind: str, object_id: str, param: str) -> Obj:
    """Like :func:`fetch` for an id given as a parameter: a 400, not a 404."""
    obj = ctx.store.get(object_id, kind)
    if obj is None or obj.get("_account") != ctx.account:
        error = resource_missing(NOUNS.get(kind, kind), object_id, param=param)
        error.status = 400
        raise error
    return obj


def apply_metadata(obj: Obj, metadata: Any) -> dict[str, Any] | None:
    """Merge ``metadata`` like Stripe (``""`` unsets a key or everything).

    Returns the previous metadata when it changed (for ``previous_attributes``).
    """
    if metadata is None:
        return None
    before = dict(obj.get("metadata") or {})
    if metadata == "":
        obj["metadata"] = {}
    else:
        current = dict(before)
        for key, value in metadata.items():
            if value == "":
                current.pop(key, None)
            else:
                current[key] = value
        if len(current) > 50:
            raise invalid_request(
                "Invalid metadata: metadata cannot have more than 50 keys", param="metadata"
            )
        obj["metadata"] = current
    return before if before != obj["metadata"] else None


def update_fields(obj: Obj, params: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """Copy plain fields from params; returns ``previous_attributes``."""
    previous: dict[str, Any] = {}
    for field in fields:
        if field in params:
            value = params[field] if params[field] != "" else None
            if obj.get(field) != value:
                previous[field] = obj.get(field)
                obj[field] = value
    if "metadata" in params:
        before = apply_metadata(obj, params["metadata"])
        if before is not None:
            previous["metadata"] = before
    return previous


def check_currency(currency: str, param: str = "currency") -> str:
    if len(currency) != 3 or not currency.isalpha():
        raise invalid_request(f"Invalid currency: {currency}.", param=param)
    return currency.lower()


def list_url(path: str) -> str:
    return path
