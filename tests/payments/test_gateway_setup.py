"""`manage.py stripe_setup` against the sandbox (issue #18, item 9): the two webhook
endpoints, with exactly the events the handler registry takes from each, in the
pinned API version; a second run updates instead of duplicating."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command

from payments import gateway
from payments.management.commands.stripe_setup import event_types
from payments.webhooks.registry import CONNECT, PLATFORM, routes
from stripe_sandbox.testing import SandboxHandle, run_sandbox

pytestmark = pytest.mark.sandbox

BASE = "https://shop.test"


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxHandle]:
    # Deliveries to https://shop.test fail fast and are not retried for long.
    with run_sandbox(webhook_max_attempts=1, webhook_timeout=0.5) as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server: SandboxHandle, settings) -> Iterator[SandboxHandle]:
    sandbox_server.reset()
    settings.STRIPE_API_BASE = sandbox_server.base_url
    settings.STRIPE_SECRET_KEY = sandbox_server.secret_key
    settings.STRIPE_IDEMPOTENCY_PREFIX = "setup-test"
    gateway.reset_client()
    yield sandbox_server
    gateway.reset_client()


def setup(*args: str) -> str:
    out = io.StringIO()
    call_command("stripe_setup", "--base-url", BASE, *args, stdout=out)
    return out.getvalue()


def endpoints(sandbox: SandboxHandle) -> dict[str, dict]:
    """The sandbox's endpoints by URL, with its private `connect` flag."""
    stored = sandbox.sandbox.store.iter_kind("webhook_endpoint")
    return {e["url"]: {**e, "connect": e["_connect"]} for e in stored}


def test_the_registry_splits_every_event_type_between_the_two_endpoints():
    platform, connect = event_types(PLATFORM), event_types(CONNECT)
    assert set(platform) | set(connect) == set(routes())
    assert not set(platform) & set(connect)
    assert "payment_intent.succeeded" in platform
    assert "account.updated" in connect


def test_first_run_creates_both_endpoints_and_prints_their_secrets(sandbox):
    output = setup()
    made = endpoints(sandbox)
    platform = made[f"{BASE}/payments/webhooks/stripe/"]
    connect = made[f"{BASE}/payments/webhooks/connect/"]
    assert len(made) == 2
    assert (platform["connect"], connect["connect"]) == (False, True)
    assert platform["enabled_events"] == event_types(PLATFORM)
    assert connect["enabled_events"] == event_types(CONNECT)
    assert platform["api_version"] == connect["api_version"] == gateway.PINNED_API_VERSION
    assert f"STRIPE_WEBHOOK_SECRET={platform['_secret']}" in output
    assert f"STRIPE_CONNECT_WEBHOOK_SECRET={connect['_secret']}" in output


def test_a_second_run_updates_and_shows_no_secret(sandbox):
    setup()
    client = sandbox.client()
    platform = next(e for e in endpoints(sandbox).values() if not e["connect"])
    # Someone changed it by hand in the dashboard.
    client.v1.webhook_endpoints.update(
        platform["id"], params={"enabled_events": ["charge.succeeded"], "disabled": True}
    )

    output = setup()

    again = endpoints(sandbox)
    assert len(again) == 2
    restored = again[platform["url"]]
    assert restored["id"] == platform["id"]
    assert restored["enabled_events"] == event_types(PLATFORM)
    assert restored["status"] == "enabled"
    assert "whsec_" not in output
    assert output.count("secret is unchanged") == 2


def test_an_endpoint_in_another_api_version_is_replaced_and_named(sandbox):
    """Stripe cannot change an endpoint's version: a new one is made beside it."""
    client = sandbox.client()
    old = client.v1.webhook_endpoints.create(
        params={
            "url": f"{BASE}/payments/webhooks/stripe/",
            "enabled_events": ["charge.refunded"],
            "api_version": "2023-08-16",
        }
    )
    output = setup()
    platform = [e for e in sandbox.sandbox.store.iter_kind("webhook_endpoint") if not e["_connect"]]
    assert len(platform) == 2
    assert f"{old.id} ({BASE}/payments/webhooks/stripe/, API version 2023-08-16)" in output
    assert "STRIPE_WEBHOOK_SECRET=whsec_" in output


def test_a_500_never_takes_the_endpoint_being_replaced_for_the_new_one(sandbox):
    """The old-version endpoint has our URL and metadata: after a 500 that made nothing,
    the look-up must not take it for the one just asked for (and delete it, the live
    endpoint whose secret is deployed, for having no secret)."""
    from payments.gateway import keys

    client = sandbox.client()
    old = client.v1.webhook_endpoints.create(
        params={
            "url": f"{BASE}/payments/webhooks/stripe/",
            "enabled_events": ["charge.refunded"],
            "api_version": "2023-08-16",
            "metadata": {"marketplace_endpoint": "platform", "install": keys.install_prefix()},
        }
    )
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        {"method": "POST", "path": "/v1/webhook_endpoints", "kind": "500", "count": 1},
    )

    with pytest.raises(CommandError, match="unreachable"):
        setup()

    assert client.v1.webhook_endpoints.retrieve(old.id).id == old.id  # still there


def test_a_bad_base_url_is_refused(sandbox):
    with pytest.raises(CommandError, match="http"):
        call_command("stripe_setup", "--base-url", "shop.test", stdout=io.StringIO())


def lose_answers(sandbox: SandboxHandle, count: int) -> None:
    """The next `count` endpoint creations are made, and answered 500 (the answer that
    carries the secret is lost)."""
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        {"method": "POST", "path": "/v1/webhook_endpoints", "kind": "500_after", "count": count},
    )


def test_an_endpoint_whose_secret_was_lost_is_made_again(sandbox):
    """Before: after a 500 the gateway found the endpoint in the list, which never shows
    the secret, and the command printed `STRIPE_WEBHOOK_SECRET=` with nothing after it."""
    lose_answers(sandbox, 1)

    output = setup()

    made = endpoints(sandbox)
    assert len(made) == 2  # the secretless one was deleted
    platform = made[f"{BASE}/payments/webhooks/stripe/"]
    connect = made[f"{BASE}/payments/webhooks/connect/"]
    assert f"STRIPE_WEBHOOK_SECRET={platform['_secret']}\n" in output
    assert f"STRIPE_CONNECT_WEBHOOK_SECRET={connect['_secret']}\n" in output
    assert "SECRET=\n" not in output
    assert "creating it again" in output


def test_when_it_cannot_be_made_again_the_command_says_to_roll_the_secret(sandbox):
    lose_answers(sandbox, 2)  # the platform endpoint's creation, and its second one
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="STRIPE_WEBHOOK_SECRET"):
        call_command("stripe_setup", "--base-url", BASE, stdout=out, stderr=err)

    assert "STRIPE_WEBHOOK_SECRET=" not in out.getvalue()
    assert "roll its secret" in err.getvalue()
    connect = endpoints(sandbox)[f"{BASE}/payments/webhooks/connect/"]
    assert f"STRIPE_CONNECT_WEBHOOK_SECRET={connect['_secret']}" in out.getvalue()
