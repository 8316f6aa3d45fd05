"""What the sandbox remembers of each ``/v1`` call (``GET /_sandbox/requests``).

Enough to check a client against Stripe's documentation - method, path, the
names of the parameters it sent and the headers that change what a call means
(``Idempotency-Key``, ``Stripe-Account``, ``Stripe-Version``) - and to measure
the call rate the "Stripe" side received. Parameter *values* are not kept: a
confirm from Stripe.js carries card details, and nothing here may hold them.
Only a test may opt in (``run_sandbox(record_values=True)``, which sets
``Sandbox.record_values``) to have each call's leaf values kept too, for a
contract test to check them against Stripe's spec; the demo never does.
"""

from __future__ import annotations

from typing import Any, NamedTuple

# Request headers recorded with their values; the API key never is.
RECORDED_HEADERS = ("idempotency-key", "stripe-account", "stripe-version", "content-type")


class LoggedCall(NamedTuple):
    t: float
    method: str
    path: str
    status: int
    fields: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    # (name, value) of each leaf parameter: only when a test opted in.
    values: tuple[tuple[str, Any], ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        entry = {
            "t": self.t,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "fields": list(self.fields),
            "headers": dict(self.headers),
        }
        if self.values is not None:
            entry["values"] = dict(self.values)
        return entry


def recorded_headers(headers: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The headers worth keeping, with Stripe's capitalisation."""
    return tuple(
        ("-".join(word.capitalize() for word in name.split("-")), headers[name])
        for name in RECORDED_HEADERS
        if name in headers
    )


def field_values(params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Every leaf parameter as Stripe names it (``transfer_data[destination]``,
    ``allowed_payment_method_types[0]``, ``metadata[order_id]``) with its value,
    sorted by name."""
    leaves: list[tuple[str, Any]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                walk(f"{prefix}[{key}]", item)
        elif isinstance(value, list) and value:
            for index, item in enumerate(value):
                walk(f"{prefix}[{index}]", item)
        else:
            leaves.append((prefix, value))

    for key, value in params.items():
        walk(key, value)
    return tuple(sorted(leaves, key=lambda leaf: leaf[0]))


def field_names(params: dict[str, Any]) -> tuple[str, ...]:
    """The names of :func:`field_values`, without the values."""
    return tuple(name for name, _ in field_values(params))
