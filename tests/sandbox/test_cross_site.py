"""What a web page on another origin can do to the sandbox: nothing but what the
test Stripe.js does with a publishable key.

The sandbox accepts any ``sk_test_…`` key and its control API has no
authentication, so it must not rely on secrets: control calls that change
something need a JSON content type (a page cannot send one without a CORS
preflight, which they never pass), and only the endpoints Stripe.js calls with a
publishable key answer cross-origin.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from stripe_sandbox.testing import SandboxHandle

SK = "sk_test_sandbox_0000000000000000"
SHOP = "http://shop.test:8000"  # any origin other than the sandbox's
ACAO = "access-control-allow-origin"

# Every control endpoint that changes something, with a body that would change
# state if it were accepted. `{account}` is filled in with a connected account.
STATE_CHANGING = [
    ("POST", "/_sandbox/reset", {}),
    ("POST", "/_sandbox/faults", {"path": "/v1/balance", "kind": "500", "count": 5}),
    ("DELETE", "/_sandbox/faults", {}),
    ("DELETE", "/_sandbox/requests", {}),
    ("POST", "/_sandbox/webhooks", {"forward_url": "http://evil.test/", "duplicate": True}),
    ("POST", "/_sandbox/balance/settle", {}),
    ("POST", "/_sandbox/payouts/run", {"account": "platform"}),
    ("POST", "/_sandbox/accounts/{account}/requirements", {"past_due": ["external_account"]}),
    ("POST", "/_sandbox/clock", {"advance": 86_400}),
    ("POST", "/_sandbox/latency", {"ms": 5_000}),
    ("POST", "/_sandbox/config", {"available_after": 1, "account_link_ttl": 1}),
]


def _bodies(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The same request as a page could send it without a preflight (and one more)."""
    text = json.dumps(data)
    return {
        "text/plain": {"content": text, "headers": {"Content-Type": "text/plain"}},
        "text/plain;charset=UTF-8": {
            "content": text,
            "headers": {"Content-Type": "text/plain;charset=UTF-8"},
        },
        "form": {"data": {"payload": text, **{k: str(v) for k, v in data.items()}}},
        "multipart": {"files": {"payload": ("payload.json", text.encode(), "application/json")}},
        "no content type": {"content": b""},
        "json-looking": {"content": text, "headers": {"Content-Type": "application/json-seq"}},
    }


def _state(sandbox: SandboxHandle) -> dict[str, Any]:
    """Everything a control call can change, read from the server's own state."""
    core = sandbox.sandbox
    config = core.config
    with core.lock:
        return {
            "objects": json.dumps(core.store.objects, sort_keys=True, default=str),
            "faults": core.faults.as_list(),
            "latency": core.latency_ms,
            "clock": core.clock.offset,
            "requests": len(core.request_log),
            "switches": core.dispatcher.switches.as_dict(),
            "retry": (core.dispatcher.retry_base, core.dispatcher.max_attempts),
            "config": (
                config.available_after,
                config.account_link_ttl,
                config.forward_url,
                config.forward_connect_url,
                config.webhook_secret,
                config.connect_webhook_secret,
            ),
        }


@pytest.fixture
def busy_sandbox(sandbox: SandboxHandle, client) -> tuple[SandboxHandle, str]:
    """A sandbox with something to lose: objects, pending and available money, a
    fault, a request log; returns it and a connected account id."""
    client.v1.customers.create(params={"email": "keep@x.test"})
    account = client.v1.accounts.create(params={"type": "express", "country": "US"}).id
    paid = {"currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    client.v1.payment_intents.create(params={"amount": 1_000, **paid})  # available at once
    sandbox.control("POST", "/_sandbox/config", {"available_after": 3600})
    client.v1.payment_intents.create(params={"amount": 500, **paid})  # pending for an hour
    sandbox.control("POST", "/_sandbox/faults", {"path": "/v1/payouts", "kind": "429"})
    return sandbox, account


@pytest.mark.parametrize(
    ("method", "path", "data"), STATE_CHANGING, ids=[f"{m} {p}" for m, p, _ in STATE_CHANGING]
)
def test_control_call_without_json_content_type_is_refused_and_changes_nothing(
    busy_sandbox, method, path, data
):
    sandbox, account = busy_sandbox
    url = sandbox.base_url + path.format(account=account)
    before = _state(sandbox)
    for name, kwargs in _bodies(data).items():
        headers = {"Origin": SHOP, **kwargs.pop("headers", {})}
        response = httpx.request(method, url, headers=headers, **kwargs)
        assert response.status_code == 415, (name, response.text)
        assert "application/json" in response.json()["error"], name
        assert ACAO not in response.headers
        assert _state(sandbox) == before, name
    # The same call as JSON does change something: the snapshot above would see it.
    sandbox.control(method, path.format(account=account), data)
    assert _state(sandbox) != before


def test_control_call_with_json_content_type_still_works(busy_sandbox):
    sandbox, _ = busy_sandbox
    response = httpx.post(
        f"{sandbox.base_url}/_sandbox/latency",
        content=b'{"ms": 7}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200
    assert response.json() == {"ms": 7}
    # An empty JSON body is an empty object.
    empty = httpx.post(
        f"{sandbox.base_url}/_sandbox/reset", headers={"Content-Type": "application/json"}
    )
    assert empty.status_code == 200
    assert sandbox.sandbox.store.objects == {}


@pytest.mark.parametrize(
    "path", ["/_sandbox/health", "/_sandbox/webhooks", "/_sandbox/requests", "/_sandbox/faults"]
)
def test_control_api_never_answers_cross_origin(sandbox, path):
    read = httpx.get(f"{sandbox.base_url}{path}", headers={"Origin": SHOP})
    assert read.status_code == 200
    assert not any(name.startswith("access-control-") for name in read.headers)
    preflight = httpx.options(
        f"{sandbox.base_url}{path}",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert ACAO not in preflight.headers


# --- /v1: CORS only for what Stripe.js does with a publishable key ------------------


def _preflight(sandbox: SandboxHandle, method: str, path: str) -> httpx.Response:
    return httpx.options(
        f"{sandbox.base_url}{path}",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/customers"),
        ("POST", "/v1/customers"),
        ("GET", "/v1/balance"),
        ("POST", "/v1/payment_intents"),
        ("POST", "/v1/payment_intents/pi_123/capture"),
        ("POST", "/v1/payment_intents/pi_123"),
        ("POST", "/v1/refunds"),
        ("POST", "/v1/transfers"),
        ("POST", "/v1/payouts"),
        ("POST", "/v1/accounts"),
        ("POST", "/v1/account_links"),
        ("GET", "/v1/events"),
        ("GET", "/v1/files/file_123/contents"),
        ("DELETE", "/v1/customers/cus_123"),
        ("POST", "/v1/nowhere"),
    ],
)
def test_preflight_to_a_secret_key_endpoint_gets_no_allow_origin(sandbox, method, path):
    response = _preflight(sandbox, method, path)
    assert ACAO not in response.headers
    assert "access-control-allow-headers" not in response.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/payment_methods"),
        ("GET", "/v1/payment_intents/pi_123"),
        ("POST", "/v1/payment_intents/pi_123/confirm"),
        ("GET", "/v1/setup_intents/seti_123"),
        ("POST", "/v1/setup_intents/seti_123/confirm"),
    ],
)
def test_preflight_to_a_stripe_js_endpoint_is_allowed(sandbox, method, path):
    response = _preflight(sandbox, method, path)
    assert response.status_code == 204
    assert response.headers[ACAO] == "*"
    assert "Content-Type" in response.headers["access-control-allow-headers"]


def test_publishable_key_calls_answer_cross_origin(sandbox, client):
    """What Stripe.js does: a form POST / plain GET with `key=pk_…`, from the shop's page."""
    intent = client.v1.payment_intents.create(params={"amount": 1_000, "currency": "usd"})
    key = sandbox.publishable_key
    card = httpx.post(
        f"{sandbox.base_url}/v1/payment_methods",
        headers={"Origin": SHOP},
        data={
            "key": key,
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
        },
    )
    assert card.status_code == 200, card.text
    assert card.headers[ACAO] == "*"
    confirmed = httpx.post(
        f"{sandbox.base_url}/v1/payment_intents/{intent.id}/confirm",
        headers={"Origin": SHOP},
        data={
            "key": key,
            "client_secret": intent.client_secret,
            "payment_method": card.json()["id"],
        },
    )
    assert confirmed.json()["status"] == "succeeded"
    assert confirmed.headers[ACAO] == "*"
    read = httpx.get(
        f"{sandbox.base_url}/v1/payment_intents/{intent.id}",
        headers={"Origin": SHOP},
        params={"key": key, "client_secret": intent.client_secret},
    )
    assert read.status_code == 200
    assert read.headers[ACAO] == "*"
    assert "Request-Id" in read.headers["access-control-expose-headers"]
    # Errors are readable too, so Stripe.js can show them.
    wrong = httpx.get(
        f"{sandbox.base_url}/v1/payment_intents/{intent.id}",
        headers={"Origin": SHOP},
        params={"key": key, "client_secret": intent.id + "_secret_nope"},
    )
    assert wrong.status_code in (400, 404)
    assert wrong.headers[ACAO] == "*"
    # The same with the key in the Authorization header.
    bearer = httpx.get(
        f"{sandbox.base_url}/v1/payment_intents/{intent.id}",
        headers={"Origin": SHOP, "Authorization": f"Bearer {key}"},
        params={"client_secret": intent.client_secret},
    )
    assert bearer.status_code == 200
    assert bearer.headers[ACAO] == "*"


def test_publishable_key_on_a_secret_endpoint_gets_no_cors(sandbox):
    response = httpx.get(
        f"{sandbox.base_url}/v1/customers",
        headers={"Origin": SHOP},
        params={"key": sandbox.publishable_key},
    )
    assert response.status_code == 401
    assert ACAO not in response.headers


def test_secret_key_answers_never_carry_cors_headers(sandbox, client):
    intent = client.v1.payment_intents.create(params={"amount": 1_000, "currency": "usd"})
    auth = {"Authorization": f"Bearer {SK}"}
    for path in ("/v1/customers", f"/v1/payment_intents/{intent.id}"):
        response = httpx.get(f"{sandbox.base_url}{path}", headers=auth)
        assert response.status_code == 200
        assert not any(name.startswith("access-control-") for name in response.headers)
    # Basic auth, like curl -u.
    basic = httpx.get(f"{sandbox.base_url}/v1/payment_intents/{intent.id}", auth=(SK, ""))
    assert basic.status_code == 200
    assert ACAO not in basic.headers


def test_secret_key_from_a_web_page_is_refused(sandbox, client):
    """A browser sends Origin; a server SDK does not. The sandbox takes any sk_test_
    key, so from a page (even through an allowed preflight) it must do nothing."""
    intent = client.v1.payment_intents.create(params={"amount": 1_000, "currency": "usd"})
    headers = {"Authorization": f"Bearer {SK}", "Origin": SHOP}
    for method, path, data in [
        ("GET", "/v1/customers", None),
        ("POST", "/v1/customers", {"email": "evil@x.test"}),
        ("POST", f"/v1/payment_intents/{intent.id}/confirm", {"payment_method": "pm_card_visa"}),
        ("GET", f"/v1/payment_intents/{intent.id}", None),
        ("GET", "/v1/files/file_123/contents", None),
    ]:
        response = httpx.request(method, f"{sandbox.base_url}{path}", headers=headers, data=data)
        assert response.status_code == 401, (path, response.text)
        assert "web page" in response.json()["error"]["message"]
        assert ACAO not in response.headers
    assert client.v1.customers.list().data == []
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_secret_key_as_key_parameter_is_refused(sandbox, client):
    """A cross-site form POST can carry `key=` but no header: only pk_ keys go there."""
    for data in (
        {"key": SK, "email": "evil@x.test"},
        {"key": "rk_test_000000000000", "email": "e"},
    ):
        response = httpx.post(f"{sandbox.base_url}/v1/customers", data=data)
        assert response.status_code == 401
        assert "key parameter" in response.json()["error"]["message"]
        assert ACAO not in response.headers
    query = httpx.get(f"{sandbox.base_url}/v1/customers", params={"key": SK})
    assert query.status_code == 401
    assert ACAO not in query.headers
    assert client.v1.customers.list().data == []
