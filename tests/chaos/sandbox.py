"""The Stripe sandbox as the suite sees it: its control API (faults, latency, webhook
switches, the request log) and its Stripe API, read with the secret key.

Plain HTTP (httpx), not the shop's gateway: the invariants are checked against the
sandbox's own state, never through the code under test.
"""

from __future__ import annotations

from typing import Any

import httpx


class Sandbox:
    def __init__(self, base_url: str, secret_key: str) -> None:
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, timeout=30)
        self._auth = {"Authorization": f"Bearer {secret_key}"}

    # --- /_sandbox control endpoints (JSON) -----------------------------------------

    def control(self, method: str, path: str, data: dict | None = None) -> dict:
        kwargs: dict[str, Any] = {}
        if method != "GET":
            kwargs["json"] = data or {}
        response = self._http.request(method, f"/_sandbox/{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def fail(self, path: str, *, kind: str = "500", count: int = 1_000_000) -> None:
        """Every matching POST fails (`kind`) until `faults_clear` or `count` calls."""
        self.control("POST", "faults", {"method": "POST", "path": path, "kind": kind,
                                        "count": count})  # fmt: skip

    def faults_clear(self) -> None:
        self.control("DELETE", "faults")

    def latency(self, ms: int) -> None:
        self.control("POST", "latency", {"ms": ms})

    def webhook_switches(self, *, duplicate: bool, reorder: bool) -> None:
        self.control("POST", "webhooks", {"duplicate": duplicate, "reorder": reorder})

    def requests(self, prefix: str = "/v1/") -> list[dict]:
        """The /v1 calls the sandbox answered: t, method, path, status, headers."""
        return self.control("GET", f"requests?path={prefix}")["requests"]

    def deliveries_retrying(self) -> int:
        """Webhook deliveries whose last attempt failed and that the sandbox will try
        again: events the shop has yet to receive."""
        max_attempts = self.control("GET", "webhooks")["max_attempts"]
        last: dict[tuple, dict] = {}
        for entry in self.control("GET", "deliveries")["deliveries"]:
            last[(entry["event_id"], entry["url"], entry["duplicate"])] = entry  # oldest first
        return sum(1 for e in last.values() if not e["ok"] and e["attempt"] < max_attempts)

    def requests_forget(self) -> None:
        self.control("DELETE", "requests")

    # --- the Stripe API (form-encoded) --------------------------------------------------

    def api(self, method: str, path: str, params: dict | None = None, account: str = "") -> dict:
        headers = dict(self._auth)
        if account:
            headers["Stripe-Account"] = account
        if method == "GET":
            response = self._http.get(path, params=params, headers=headers)
        else:
            response = self._http.post(path, data=params or {}, headers=headers)
        response.raise_for_status()
        return response.json()

    def list_all(self, path: str, params: dict | None = None, account: str = "") -> list[dict]:
        """Every object of a Stripe list, page by page."""
        found: list[dict] = []
        query = {**(params or {}), "limit": 100}
        while True:
            page = self.api("GET", path, query, account=account)
            found.extend(page["data"])
            if not page["has_more"] or not page["data"]:
                return found
            query["starting_after"] = page["data"][-1]["id"]
