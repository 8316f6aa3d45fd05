"""Turn stored objects into API responses: hide private keys, apply ``expand``.

``expand`` paths follow Stripe's rules: ``latest_charge.balance_transaction``
walks into expanded objects, ``data.customer`` applies to each item of a list,
and only fields Stripe documents as expandable may be expanded (anything else
is a 400, as on Stripe). At most four levels deep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import invalid_request
from .store import Obj, Store

MAX_EXPAND_DEPTH = 4

# Expandable fields per object type, as dotted paths from the object.
EXPANDABLE: dict[str, frozenset[str]] = {
    kind: frozenset(paths.split())
    for kind, paths in {
        "payment_intent": "latest_charge customer payment_method on_behalf_of application "
        "transfer_data.destination review",
        "charge": "balance_transaction customer payment_intent transfer application_fee "
        "application on_behalf_of refunds source_transfer failure_balance_transaction "
        "transfer_data.destination destination",
        "refund": "balance_transaction charge payment_intent transfer_reversal "
        "source_transfer_reversal failure_balance_transaction",
        "transfer": "balance_transaction destination destination_payment source_transaction "
        "reversals",
        "transfer_reversal": "balance_transaction transfer destination_payment_refund "
        "source_refund",
        "application_fee": "account application balance_transaction charge originating_transaction",
        "fee_refund": "balance_transaction fee",
        "payout": "balance_transaction destination failure_balance_transaction",
        "balance_transaction": "source",
        "payment_method": "customer",
        "setup_intent": "customer payment_method latest_attempt on_behalf_of application",
        "customer": "default_source invoice_settings.default_payment_method",
        "account": "",
        "event": "",
    }.items()
}

# Fields computed only when expanded (Stripe no longer embeds them by default).
Virtual = Callable[[Store, Obj], Any]
VIRTUAL_FIELDS: dict[tuple[str, str], Virtual] = {}


def public(obj: Obj) -> Obj:
    """Shallow copy without the sandbox's private ``_`` keys."""
    return {key: value for key, value in obj.items() if key[0] != "_"}


def render(store: Store, obj: Obj, expand: list[str] | None = None) -> Obj:
    """The response body for ``obj`` (a stored object or a list object)."""
    if obj.get("object") == "list":
        result = dict(obj)
        result["data"] = [public(item) for item in obj["data"]]
    else:
        result = public(obj)
    for path in expand or ():
        parts = path.split(".")
        if len(parts) > MAX_EXPAND_DEPTH + (1 if result.get("object") == "list" else 0):
            raise invalid_request(
                f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property. "
                f"Property: {path}",
                param="expand",
            )
        result = _expand(store, result, parts, path)
    return result


def _expand(store: Store, node: Obj, parts: list[str], full: str) -> Obj:
    if node.get("object") == "list" and parts[0] == "data":
        node = dict(node)
        node["data"] = [_expand(store, item, parts[1:], full) for item in node["data"]]
        return node
    return _expand_object(store, node, node.get("object", ""), "", parts, full)


def _expand_object(
    store: Store, node: Obj, kind: str, prefix: str, parts: list[str], full: str
) -> Obj:
    if not parts:
        return node
    field, rest = parts[0], parts[1:]
    dotted = f"{prefix}{field}"
    value = node.get(field)
    node = dict(node)
    if dotted in EXPANDABLE.get(kind, frozenset()):
        virtual = VIRTUAL_FIELDS.get((kind, dotted))
        if virtual is not None:
            stored = store.get(node.get("id", ""))
            value = virtual(store, stored if stored is not None else node)
        elif isinstance(value, str):
            target = store.get(value)
            value = public(target) if target is not None else value
        node[field] = value
        if rest and isinstance(value, dict):
            node[field] = _expand(store, value, rest, full)
        return node
    if isinstance(value, dict) and value.get("object") is None and rest:
        # A plain sub-hash such as transfer_data: keep walking with a longer prefix.
        node[field] = _expand_object(store, value, kind, f"{dotted}.", rest, full)
        return node
    raise invalid_request(f"This property cannot be expanded ({full}).", param="expand")
