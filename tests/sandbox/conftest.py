"""Fixtures: one sandbox per test session (reset before each test), a stripe
client pointed at it, and a local webhook receiver."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from stripe_sandbox.testing import SandboxHandle, run_sandbox

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxHandle]:
    with run_sandbox() as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server: SandboxHandle) -> SandboxHandle:
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def client(sandbox: SandboxHandle) -> stripe.StripeClient:
    return sandbox.client()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local webhook endpoint that records what it gets.

    ``fail_next`` answers that many requests with a 500 first.
    """

    url: str
    requests: list[Received] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(
        self, predicate: Callable[[list[Received]], bool], timeout: float = 5.0
    ) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                snapshot = list(self.requests)
            if predicate(snapshot):
                return snapshot
            time.sleep(0.02)
        raise AssertionError(f"timed out; received {[r.event['type'] for r in snapshot]}")

    def types(self, path: str | None = None) -> list[str]:
        with self.lock:
            return [r.event["type"] for r in self.requests if path is None or r.path == path]


@pytest.fixture
def receiver(sandbox: SandboxHandle) -> Iterator[Receiver]:
    """Platform events at /platform, Connect events at /connect."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = Receiver(url=f"http://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                failing = state.fail_next > 0
                if failing:
                    state.fail_next -= 1
                else:
                    state.requests.append(Received(self.path, dict(self.headers), body))
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sandbox.control(
        "POST",
        "/_sandbox/webhooks",
        {
            "forward_url": f"{state.url}/platform",
            "forward_connect_url": f"{state.url}/connect",
        },
    )
    try:
        yield state
    finally:
        sandbox.control(
            "POST", "/_sandbox/webhooks", {"forward_url": None, "forward_connect_url": None}
        )
        server.shutdown()
        server.server_close()
