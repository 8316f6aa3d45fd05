"""Helpers shared by the resource modules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import invalid_request, resource_missing
from ..lists import embedded_list, list_object
from ..money import proportional_share
from ..render import public
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


def save_update(ctx: Ctx, obj: Obj, previous: dict[str, Any], *event_types: str) -> Obj:
    """Persist an updated object; emit ``event_types`` only if something changed
    (Stripe sends no ``*.updated`` event for an update that changes nothing)."""
    ctx.store.touch(obj)
    if previous:
        for event_type in event_types:
            ctx.emit(event_type, obj, previous)
    return obj


def list_where(
    ctx: Ctx,
    kind: str,
    url: str,
    params: dict[str, Any],
    fields: tuple[str, ...] = (),
    **equal: Any,
) -> Obj:
    """Stripe's list object of ``kind`` in the caller's scope, newest first.

    Filters are equality on each of ``fields`` that ``params`` gives (the list
    endpoints' ``customer=…``, ``status=…``) and on ``equal`` (an id from the
    path); pagination is :func:`~stripe_sandbox.lists.list_object`'s.
    """
    filters = {field: params[field] for field in fields if field in params}
    filters.update(equal)
    where = (lambda obj: all(obj.get(k) == v for k, v in filters.items())) if filters else None
    return list_object(url, ctx.store.select(kind, ctx.account, where), params)


@dataclass(frozen=True)
class Children:
    """A parent's sub-collection that gives part of its amount back: a
    transfer's reversals, an application fee's refunds.

    The parent counts what was given back in ``total`` (and sets ``flag`` once
    it is all of ``amount``), embeds the newest children as a sub-list in
    ``field``, and lists them at ``path`` (``/v1/transfers/{id}/reversals``).
    Children live on the platform (no ``Stripe-Account`` scope); each names its
    parent in ``link``.
    """

    parent_kind: str
    kind: str
    link: str
    field: str
    path: str
    total: str
    flag: str

    def url(self, parent_id: str) -> str:
        return self.path.format(id=parent_id)

    def empty(self, parent_id: str) -> Obj:
        """The embedded sub-list of a new parent."""
        return embedded_list(self.url(parent_id), [])

    def remaining(self, parent: Obj) -> int:
        """What may still be given back."""
        return parent["amount"] - parent[self.total]

    def share(self, parent: Obj, refunded_total: int, charge_amount: int, taken: int) -> int:
        """A refund's proportional share of the parent's amount, at most what
        remains (see :func:`~stripe_sandbox.money.proportional_share`)."""
        share = proportional_share(parent["amount"], refunded_total, charge_amount, taken)
        return min(share, self.remaining(parent))

    def attach(self, ctx: Ctx, parent: Obj, child: Obj) -> dict[str, Any]:
        """Store ``child`` and count its amount on the parent.

        Returns the parent's previous totals, for the event's
        ``previous_attributes``.
        """
        ctx.store.add(child, None)
        previous = {self.total: parent[self.total], self.flag: parent[self.flag]}
        parent[self.total] += child["amount"]
        parent[self.flag] = parent[self.total] >= parent["amount"]
        self.refresh(ctx, parent)
        return previous

    def refresh(self, ctx: Ctx, parent: Obj) -> None:
        """Rebuild the parent's embedded sub-list from the stored children."""
        parent[self.field] = embedded_list(
            self.url(parent["id"]), [public(item) for item in self._of(ctx, parent["id"])]
        )
        ctx.store.touch(parent)

    def list_page(self, ctx: Ctx, params: dict[str, Any], parent_id: str) -> Obj:
        """``GET {path}``: 404 for an unknown parent, then Stripe's list object."""
        fetch(ctx, self.parent_kind, parent_id)
        return list_object(self.url(parent_id), self._of(ctx, parent_id), params)

    def retrieve(self, ctx: Ctx, parent_id: str, child_id: str) -> Obj:
        """``GET {path}/{child}``: 404 unless the child belongs to the parent."""
        fetch(ctx, self.parent_kind, parent_id)
        obj = fetch(ctx, self.kind, child_id)
        if obj[self.link] != parent_id:
            fetch(ctx, self.kind, "")
        return obj

    def _of(self, ctx: Ctx, parent_id: str) -> list[Obj]:
        return ctx.store.select(self.kind, None, lambda child: child[self.link] == parent_id)
