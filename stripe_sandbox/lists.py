"""Stripe list objects: ``limit``, ``starting_after``, ``ending_before``, ``created``."""

from __future__ import annotations

from typing import Any

from .errors import invalid_request
from .store import Obj


def created_matches(obj: Obj, created: Any) -> bool:
    """``created=123`` or ``created[gte]=…`` style filters."""
    if created is None:
        return True
    value = obj.get("created", 0)
    if isinstance(created, int):
        return value == created
    bounds = {key: int(bound) for key, bound in created.items() if str(bound).lstrip("-").isdigit()}
    return (
        value > bounds.get("gt", value - 1)
        and value >= bounds.get("gte", value)
        and value < bounds.get("lt", value + 1)
        and value <= bounds.get("lte", value)
    )


def list_object(url: str, items: list[Obj], params: dict[str, Any]) -> Obj:
    """Page through ``items`` (newest first) the way Stripe's list endpoints do."""
    limit = params.get("limit", 10)
    if not 1 <= limit <= 100:
        raise invalid_request(
            "This value must be greater than or equal to 1 and less than or equal to 100.",
            param="limit",
        )
    items = [obj for obj in items if created_matches(obj, params.get("created"))]
    starting_after = params.get("starting_after")
    ending_before = params.get("ending_before")
    if starting_after:
        index = _index_of(items, starting_after, "starting_after")
        page = items[index + 1 : index + 1 + limit]
        has_more = index + 1 + limit < len(items)
    elif ending_before:
        index = _index_of(items, ending_before, "ending_before")
        start = max(0, index - limit)
        page = items[start:index]
        has_more = start > 0
    else:
        page = items[:limit]
        has_more = len(items) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}


def embedded_list(url: str, items: list[Obj]) -> Obj:
    """A sub-list embedded in an object (``transfer.reversals``)."""
    return {
        "object": "list",
        "data": items[:10],
        "has_more": len(items) > 10,
        "total_count": len(items),
        "url": url,
    }


def _index_of(items: list[Obj], object_id: str, param: str) -> int:
    for index, obj in enumerate(items):
        if obj["id"] == object_id:
            return index
    raise invalid_request(f"No such object: '{object_id}'", param=param, code="resource_missing")
