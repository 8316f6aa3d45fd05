"""Fault injection: make the next N matching API calls fail."""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import asdict, dataclass

KINDS = ("500", "500_after", "429", "drop", "drop_after")


@dataclass
class FaultRule:
    """Fail the next ``remaining`` calls whose method and path match.

    ``path`` is a glob (``/v1/payment_intents/*/capture``); ``method`` is an
    HTTP verb or ``*``. Kinds: ``500`` (an ``api_error`` instead of running the
    handler: nothing changes), ``500_after`` (the handler runs and its changes
    stay, then the answer is an ``api_error``: Stripe's "indeterminate" 500),
    ``429`` (rate limit), ``drop`` (connection closed before the request is
    handled) and ``drop_after`` (handled, then the connection is closed before
    the answer, the case idempotency keys exist for). A 500 of either kind is
    stored for the request's idempotency key when the request got as far as
    its handler, as Stripe stores its own 500s.
    """

    id: int
    method: str
    path: str
    kind: str
    remaining: int

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and fnmatch.fnmatchcase(path, self.path)


class Faults:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, method: str, path: str, kind: str, count: int) -> FaultRule:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        rule = FaultRule(next(self._ids), method.upper(), path, kind, count)
        self.rules.append(rule)
        return rule

    def take(self, method: str, path: str) -> str | None:
        """The fault kind for this call, consuming one use of the first matching rule."""
        for rule in self.rules:
            if rule.matches(method, path):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self.rules.remove(rule)
                return rule.kind
        return None

    def clear(self) -> None:
        self.rules.clear()

    def as_list(self) -> list[dict]:
        return [asdict(rule) for rule in self.rules]
