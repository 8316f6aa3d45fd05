"""Run a sandbox on a free local port for tests.

    with run_sandbox(available_after=0) as sandbox:
        client = sandbox.client()          # a stripe.StripeClient pointed at it
        sandbox.control("POST", "/_sandbox/reset")

The server runs in a background thread (uvicorn) and is stopped on exit.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from .app import create_app
from .config import SandboxConfig
from .sandbox import Sandbox

TEST_SECRET_KEY = "sk_test_sandbox_0000000000000000"  # noqa: S105 - a test-mode key
TEST_PUBLISHABLE_KEY = "pk_test_sandbox_0000000000000000"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class SandboxHandle:
    """What a test needs: the URL, the signing secrets and a few shortcuts."""

    base_url: str
    # Kept out of repr(): a failing test prints its fixtures.
    webhook_secret: str = field(repr=False)
    connect_webhook_secret: str = field(repr=False)
    sandbox: Sandbox
    secret_key: str = TEST_SECRET_KEY
    publishable_key: str = TEST_PUBLISHABLE_KEY
    _http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10), repr=False)

    def client(self, **options: Any) -> Any:
        """A `stripe.StripeClient` whose API, files and connect hosts are the sandbox."""
        import stripe

        base = {"api": self.base_url, "files": self.base_url, "connect": self.base_url}
        options.setdefault("max_network_retries", 0)
        return stripe.StripeClient(self.secret_key, base_addresses=base, **options)

    def control(self, method: str, path: str, json: Any = None) -> Any:
        """Call a ``/_sandbox/...`` endpoint; returns the decoded JSON.

        Everything but a GET goes as JSON (``{}`` when ``json`` is None): the
        control endpoints refuse any other content type.
        """
        if json is None and method.upper() not in ("GET", "HEAD"):
            json = {}
        response = self._http.request(method, f"{self.base_url}{path}", json=json)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.control("POST", "/_sandbox/reset")


@contextlib.contextmanager
def run_sandbox(*, record_values: bool = False, **config: Any) -> Iterator[SandboxHandle]:
    """Start the sandbox on a free port in a thread; stop it on exit.

    Keyword arguments are :class:`SandboxConfig` fields. Webhook retries default
    to a 0.05 s base here so retry tests stay fast. ``record_values=True`` (tests
    only) makes ``GET /_sandbox/requests`` show each call's parameter values
    (``values``: ``{"transfer_data[destination]": "acct_…"}``), not only their names.
    """
    config.setdefault("host", "127.0.0.1")
    config.setdefault("port", free_port(config["host"]))
    config.setdefault("webhook_retry_base", 0.05)
    config.setdefault("webhook_timeout", 5.0)
    settings = SandboxConfig(**config)
    app = create_app(settings)
    app.state.sandbox.record_values = record_values
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="error",
            access_log=False,
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, name="stripe-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("stripe_sandbox did not start")
        time.sleep(0.01)
    sandbox: Sandbox = app.state.sandbox
    handle = SandboxHandle(
        base_url=settings.base_url,
        webhook_secret=sandbox.config.webhook_secret or "",
        connect_webhook_secret=sandbox.config.connect_webhook_secret or "",
        sandbox=sandbox,
    )
    try:
        yield handle
    finally:
        handle._http.close()  # noqa: SLF001
        server.should_exit = True
        thread.join(timeout=10)
