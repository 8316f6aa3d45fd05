"""The command line: ``python -m stripe_sandbox`` announces its URL, and with
``--db`` a restarted sandbox still has its state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import stripe

from stripe_sandbox.testing import free_port

ROOT = Path(__file__).resolve().parents[2]


def start(port: int, *args: str) -> subprocess.Popen:
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
