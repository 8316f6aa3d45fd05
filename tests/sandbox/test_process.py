"""The command line: ``python -m stripe_sandbox`` announces its URL (never a
webhook secret), and with ``--db`` a restarted sandbox still has its state."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import stripe

from stripe_sandbox.__main__ import announcement
from stripe_sandbox.config import SandboxConfig, redact
from stripe_sandbox.testing import free_port

ROOT = Path(__file__).resolve().parents[2]


def start(port: int, *args: str, early: list[str] | None = None) -> subprocess.Popen:
    """Start the sandbox; the first line is its announcement, unless ``early`` is
    given: then lines before it (debug logging) are collected there."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "stripe_sandbox", "--port", str(port), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    while early is not None and first and "listening on" not in first:
        early.append(first)
        first = process.stdout.readline()
    assert first.strip() == f"stripe_sandbox listening on http://127.0.0.1:{port}", first
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)


def test_state_survives_a_restart_with_db(tmp_path):
    db = tmp_path / "sandbox.sqlite3"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client = stripe.StripeClient(
        "sk_test_restart_000000", max_network_retries=0, base_addresses={"api": base, "files": base}
    )
    process = start(port, "--db", str(db))
    try:
        customer = client.v1.customers.create(
            params={"email": "keep@x.test"}, options={"idempotency_key": "keep-1"}
        )
        intent = client.v1.payment_intents.create(
            params={
                "amount": 1_000,
                "currency": "usd",
                "payment_method": "pm_card_visa",
                "confirm": True,
            }
        )
    finally:
        stop(process)
    process = start(port, "--db", str(db))
    try:
        assert client.v1.customers.retrieve(customer.id).email == "keep@x.test"
        assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
        assert client.v1.balance.retrieve().available[0].amount == 1_000
        replay = client.v1.customers.create(
            params={"email": "keep@x.test"}, options={"idempotency_key": "keep-1"}
        )
        assert replay.id == customer.id
    finally:
        stop(process)


PLATFORM_SECRET = "whsec_platformSECRETdoNotLog0000abcd"  # noqa: S105 - a test value


def test_log_never_shows_a_webhook_secret(tmp_path):
    """The start-up lines name the webhook targets with redacted secrets; nothing
    the process prints afterwards (debug logging, a failing delivery) has them."""
    dead = free_port()  # nothing listens: every delivery fails and is retried
    port = free_port()
    early: list[str] = []
    process = start(
        port,
        "--log-level",
        "debug",
        "--forward",
        f"http://127.0.0.1:{dead}/platform",
        "--forward-connect",
        f"http://hook:pa55word@127.0.0.1:{dead}/connect",
        "--webhook-secret",
        PLATFORM_SECRET,
        "--webhook-retry-base",
        "0.05",
        "--webhook-max-attempts",
        "2",
        early=early,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        generated = httpx.get(f"{base}/_sandbox/webhooks").json()["connect_webhook_secret"]
        assert generated.startswith("whsec_")
        client = stripe.StripeClient(
            "sk_test_logging_000000", max_network_retries=0, base_addresses={"api": base}
        )
        event = client.v1.customers.create(params={"email": "log@x.test"})
        assert event.id
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            attempts = httpx.get(f"{base}/_sandbox/deliveries").json()["deliveries"]
            if len(attempts) >= 2:
                break
            time.sleep(0.05)
    finally:
        stop(process)
    assert process.stdout is not None
    output = "".join(early) + process.stdout.read()
    assert f"platform webhooks -> http://127.0.0.1:{dead}/platform (secret whsec_…abcd)" in output
    assert f"(secret whsec_…{generated[-4:]})" in output
    assert f"connect webhooks  -> http://***@127.0.0.1:{dead}/connect" in output
    for secret in (PLATFORM_SECRET[6:], generated[6:], "hook:", "pa55word"):
        assert secret not in output


def test_announcement_and_config_repr_redact_secrets():
    config = SandboxConfig(
        forward_url="http://shop.test/hooks",
        forward_connect_url="http://shop.test/connect",
        webhook_secret=PLATFORM_SECRET,
        connect_webhook_secret="whsec_connectSECRET00009876",  # noqa: S106 - a test value
    )
    text = announcement(config) + repr(config)
    assert "whsec_…abcd" in text
    assert "whsec_…9876" in text
    assert "SECRET" not in text
    assert redact(None) == "(none)"
    assert redact("short") == "…"
    assert redact("no-underscore-but-long") == "…long"
