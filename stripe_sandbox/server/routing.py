"""Match ``METHOD /v1/...`` to an :class:`~stripe_sandbox.resources.common.Endpoint`."""

from __future__ import annotations

import re

from ..resources import all_routes
from ..resources.common import Endpoint

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class Router:
    """Static paths are a dict lookup; parameterised ones are tried in order."""

    def __init__(self, endpoints: list[Endpoint] | None = None) -> None:
        self.static: dict[tuple[str, str], Endpoint] = {}
        self.dynamic: list[tuple[str, re.Pattern[str], Endpoint]] = []
        for endpoint in endpoints if endpoints is not None else all_routes():
            if "{" in endpoint.path:
                pattern = "^" + _PLACEHOLDER.sub(r"(?P<\1>[^/]+)", endpoint.path) + "$"
                self.dynamic.append((endpoint.method, re.compile(pattern), endpoint))
            else:
                self.static[(endpoint.method, endpoint.path)] = endpoint

    def match(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]] | None:
        endpoint = self.static.get((method, path))
        if endpoint is not None:
            return endpoint, {}
        for route_method, pattern, endpoint in self.dynamic:
            if route_method == method:
                found = pattern.match(path)
                if found:
                    return endpoint, found.groupdict()
        return None
