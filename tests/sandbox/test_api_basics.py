"""Authentication, error shapes, malformed input, CORS, idempotency and faults."""

from __future__ import annotations

import threading

import httpx
import pytest
import stripe

from stripe_sandbox.testing import SandboxHandle

SK = {"Authorization": "Bearer sk_test_sandbox_0000000000000000"}


def post(sandbox: SandboxHandle, path: str, **kwargs) -> httpx.Response:
    headers = {**SK, **kwargs.pop("headers", {})}
    return httpx.post(f"{sandbox.base_url}{path}", headers=headers, **kwargs)


def get(sandbox: SandboxHandle, path: str, **kwargs) -> httpx.Response:
    headers = {**SK, **kwargs.pop("headers", {})}
    return httpx.get(f"{sandbox.base_url}{path}", headers=headers, **kwargs)


def test_secret_key_is_required(sandbox):
    response = httpx.get(f"{sandbox.base_url}/v1/customers")
    assert response.status_code == 401
    assert "You did not provide an API key" in response.json()["error"]["message"]
    assert response.headers["request-id"].startswith("req_")
    bad = get(sandbox, "/v1/customers", headers={"Authorization": "Bearer sk_live_realkey123"})
    assert bad.status_code == 401
    assert bad.json()["error"]["message"].startswith("Invalid API Key provided")
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient(
            "sk_live_nope_nope_nope", base_addresses={"api": sandbox.base_url}
        ).v1.customers.list()


def test_basic_auth_like_curl(sandbox):
    response = httpx.get(
        f"{sandbox.base_url}/v1/customers", auth=("sk_test_sandbox_0000000000000000", "")
    )
    assert response.status_code == 200
    assert response.json()["object"] == "list"


def test_publishable_key_only_for_client_side_calls(sandbox, client):
    pk = {"Authorization": f"Bearer {sandbox.publishable_key}"}
    assert get(sandbox, "/v1/customers", headers=pk).status_code == 401
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    no_secret = get(sandbox, f"/v1/payment_intents/{intent.id}", headers=pk)
    assert no_secret.status_code == 400
    assert no_secret.json()["error"]["param"] == "client_secret"
    wrong = get(
        sandbox,
        f"/v1/payment_intents/{intent.id}",
        headers=pk,
        params={"client_secret": intent.id + "_secret_wrong"},
    )
    assert wrong.status_code == 400
    ok = get(
        sandbox,
        f"/v1/payment_intents/{intent.id}",
        headers=pk,
        params={"client_secret": intent.client_secret},
    )
    assert ok.status_code == 200
    assert ok.json()["id"] == intent.id
    card = post(
        sandbox,
        "/v1/payment_methods",
        headers=pk,
        data={
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2040",
            "card[cvc]": "123",
        },
    )
    assert card.status_code == 200
    confirmed = post(
        sandbox,
        f"/v1/payment_intents/{intent.id}/confirm",
        headers=pk,
        data={"client_secret": intent.client_secret, "payment_method": card.json()["id"]},
    )
    assert confirmed.json()["status"] == "succeeded"
    assert post(sandbox, f"/v1/payment_intents/{intent.id}/capture", headers=pk).status_code == 401


def test_cors_preflight_and_headers(sandbox):
    """CORS only where Stripe.js calls with a publishable key (see test_cross_site.py)."""
    preflight = httpx.options(
        f"{sandbox.base_url}/v1/payment_methods",
        headers={"Origin": "http://shop.test", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    response = get(sandbox, "/v1/customers")
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("POST", "/v1/customers", {"content": b"metadata[a=1"}, 400, None),
        ("POST", "/v1/customers", {"content": b"\xff\xfe=\xff"}, 400, None),
        ("POST", "/v1/customers", {"json": {"email": "a@b.c"}}, 400, None),
        ("POST", "/v1/customers", {"data": {"bogus": "1"}}, 400, "parameter_unknown"),
        (
            "POST",
            "/v1/payment_intents",
            {"data": {"amount": "ten", "currency": "usd"}},
            400,
            "parameter_invalid_integer",
        ),
        ("POST", "/v1/payment_intents", {"data": {"currency": "usd"}}, 400, "parameter_missing"),
        ("GET", "/v1/customers/cus_missing", {}, 404, "resource_missing"),
        ("GET", "/v1/customers", {"params": {"limit": "1000"}}, 400, None),
        ("GET", "/v1/nothing_here", {}, 404, None),
        ("POST", "/v1/payment_intents/pi_nope/capture", {}, 404, "resource_missing"),
    ],
)
def test_bad_input_is_a_stripe_shaped_4xx(sandbox, method, path, kwargs, status, code):
    response = httpx.request(method, f"{sandbox.base_url}{path}", headers=SK, **kwargs)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"]
    if code:
        assert error["code"] == code
    # ... and the server keeps serving.
    assert get(sandbox, "/v1/customers").status_code == 200


def test_sdk_raises_the_matching_exceptions(client):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.retrieve("cus_doesnotexist")
    assert missing.value.http_status == 404
    assert missing.value.code == "resource_missing"
    assert missing.value.error.message == "No such customer: 'cus_doesnotexist'"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.customers.create(params={"nickname": "x"})  # type: ignore[typeddict-unknown-key]
    assert unknown.value.param == "nickname"


def test_lists_paginate(client):
    ids = [client.v1.customers.create(params={"email": f"c{i}@x.test"}).id for i in range(5)]
    newest_first = list(reversed(ids))
    page = client.v1.customers.list(params={"limit": 2})
    assert [c.id for c in page.data] == newest_first[:2]
    assert page.has_more
    page = client.v1.customers.list(params={"limit": 2, "starting_after": newest_first[1]})
    assert [c.id for c in page.data] == newest_first[2:4]
    page = client.v1.customers.list(params={"limit": 2, "ending_before": newest_first[2]})
    assert [c.id for c in page.data] == newest_first[:2]
    everything = [c.id for c in client.v1.customers.list(params={"limit": 2}).auto_paging_iter()]
    assert everything == newest_first
    filtered = client.v1.customers.list(params={"email": "c3@x.test"})
    assert [c.id for c in filtered.data] == [ids[3]]


def test_idempotency_replays_and_rejects_other_params(sandbox, client):
    first = client.v1.customers.create(
        params={"email": "a@x.test"}, options={"idempotency_key": "order-1"}
    )
    again = client.v1.customers.create(
        params={"email": "a@x.test"}, options={"idempotency_key": "order-1"}
    )
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(client.v1.customers.list().data) == 1
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(
            params={"email": "b@x.test"}, options={"idempotency_key": "order-1"}
        )
    # Keys are scoped per connected account.
    account = client.v1.accounts.create(params={"type": "express"})
    other = client.v1.customers.create(
        params={"email": "a@x.test"},
        options={"idempotency_key": "order-1", "stripe_account": account.id},
    )
    assert other.id != first.id


def test_idempotent_decline_is_replayed(client):
    params = {
        "amount": 1000,
        "currency": "usd",
        "payment_method": "pm_card_chargeDeclined",
        "confirm": True,
    }
    with pytest.raises(stripe.CardError) as first:
        client.v1.payment_intents.create(params=params, options={"idempotency_key": "k"})
    with pytest.raises(stripe.CardError) as second:
        client.v1.payment_intents.create(params=params, options={"idempotency_key": "k"})
    assert first.value.json_body == second.value.json_body
    assert len(client.v1.payment_intents.list().data) == 1


def test_stripe_account_scopes_objects(client):
    account = client.v1.accounts.create(params={"type": "express"})
    platform_customer = client.v1.customers.create(params={"email": "p@x.test"})
    connected = client.v1.customers.create(
        params={"email": "c@x.test"}, options={"stripe_account": account.id}
    )
    assert [c.id for c in client.v1.customers.list().data] == [platform_customer.id]
    scoped = client.v1.customers.list(options={"stripe_account": account.id})
    assert [c.id for c in scoped.data] == [connected.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.retrieve(platform_customer.id, options={"stripe_account": account.id})
    with pytest.raises(stripe.PermissionError):
        client.v1.customers.list(options={"stripe_account": "acct_unknown"})
    assert (
        client.v1.accounts.retrieve_current(options={"stripe_account": account.id}).id == account.id
    )


@pytest.mark.parametrize(
    ("kind", "exception"),
    [
        ("500", stripe.APIError),
        ("429", stripe.RateLimitError),
        ("drop", stripe.APIConnectionError),
    ],
)
def test_fault_injection(sandbox, client, kind, exception):
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        {"method": "POST", "path": "/v1/customers", "kind": kind, "count": 1},
    )
    with pytest.raises(exception):
        client.v1.customers.create(params={"email": "x@x.test"})
    assert client.v1.customers.create(params={"email": "x@x.test"}).email == "x@x.test"
    assert sandbox.control("GET", "/_sandbox/faults")["faults"] == []


def test_a_500_is_stored_for_its_key_and_replayed_as_stripe_does(sandbox):
    """Stripe saves the result of a request that began executing, 500s included:
    the same key gets the same 500 (docs: idempotent requests), and the SDK is told
    not to retry it. Only a new key runs the request again."""
    client = sandbox.client(max_network_retries=2)
    sandbox.control("POST", "/_sandbox/faults", {"path": "/v1/customers", "kind": "500"})
    options = {"idempotency_key": "customer-r"}
    with pytest.raises(stripe.APIError) as first:
        client.v1.customers.create(params={"email": "r@x.test"}, options=options)
    assert first.value.headers["Stripe-Should-Retry"] == "false"
    with pytest.raises(stripe.APIError) as again:
        client.v1.customers.create(params={"email": "r@x.test"}, options=options)
    assert again.value.headers["Idempotent-Replayed"] == "true"
    assert again.value.json_body == first.value.json_body
    calls = sandbox.control("GET", "/_sandbox/requests?path=/v1/customers")["requests"]
    assert [c["status"] for c in calls] == [500, 500]  # no retry by the SDK
    assert client.v1.customers.list().data == []  # the injected 500 changed nothing
    customer = client.v1.customers.create(
        params={"email": "r@x.test"}, options={"idempotency_key": "customer-r-2"}
    )
    assert [c.id for c in client.v1.customers.list().data] == [customer.id]


def test_a_500_after_the_handler_keeps_its_changes(sandbox, client):
    """`500_after`: the write happened, its answer is a 500 (Stripe's indeterminate
    case); the key replays the 500, and the object is there to be found."""
    sandbox.control("POST", "/_sandbox/faults", {"path": "/v1/customers", "kind": "500_after"})
    options = {"idempotency_key": "customer-s"}
    for _ in range(2):
        with pytest.raises(stripe.APIError):
            client.v1.customers.create(params={"email": "s@x.test"}, options=options)
    assert [c.email for c in client.v1.customers.list().data] == ["s@x.test"]


def test_an_injected_500_on_a_refused_request_is_not_stored(sandbox, client):
    """A request refused before its handler (here: an unknown parameter) saves
    nothing on Stripe: the fault still answers 500, but the key stays free."""
    sandbox.control("POST", "/_sandbox/faults", {"path": "/v1/customers", "kind": "500"})
    options = {"idempotency_key": "customer-t"}
    with pytest.raises(stripe.APIError):
        client.v1.customers.create(params={"emial": "t@x.test"}, options=options)
    customer = client.v1.customers.create(params={"email": "t@x.test"}, options=options)
    assert customer.last_response.headers.get("Idempotent-Replayed") is None


def test_an_idempotency_key_expires_after_24_hours_on_the_sandbox_clock(sandbox, client):
    options = {"idempotency_key": "customer-u"}
    first = client.v1.customers.create(params={"email": "u@x.test"}, options=options)
    sandbox.control("POST", "/_sandbox/clock", {"advance": 24 * 3600 - 5})
    assert client.v1.customers.create(params={"email": "u@x.test"}, options=options).id == first.id
    sandbox.control("POST", "/_sandbox/clock", {"advance": 10})
    # Pruned: the key is new again, and so are its parameters.
    later = client.v1.customers.create(params={"email": "v@x.test"}, options=options)
    assert later.id != first.id


def test_sdk_retries_a_500_that_was_not_stored(sandbox):
    """Without an idempotency key nothing is stored, so the SDK's retry runs again."""
    client = sandbox.client(max_network_retries=2)
    sandbox.control("POST", "/_sandbox/faults", {"path": "/v1/balance", "kind": "500"})
    assert client.v1.balance.retrieve().object == "balance"


def test_lost_answer_is_recovered_by_the_idempotency_key(sandbox, client):
    sandbox.control(
        "POST", "/_sandbox/faults", {"path": "/v1/customers", "kind": "drop_after", "count": 1}
    )
    options = {"idempotency_key": "customer-for-user-7"}
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.create(params={"email": "d@x.test"}, options=options)
    # The request was executed; retrying with the same key returns its result.
    customer = client.v1.customers.create(params={"email": "d@x.test"}, options=options)
    assert customer.last_response.headers.get("Idempotent-Replayed") == "true"
    assert [c.id for c in client.v1.customers.list().data] == [customer.id]


def test_latency_switch(sandbox, client):
    import time

    sandbox.control("POST", "/_sandbox/latency", {"ms": 150})
    started = time.monotonic()
    client.v1.customers.list()
    assert time.monotonic() - started >= 0.15
    sandbox.control("POST", "/_sandbox/latency", {"ms": 0})


def test_concurrent_requests_are_served_consistently(client):
    results: list[str] = []

    def make(n: int) -> None:
        for i in range(10):
            results.append(client.v1.customers.create(params={"email": f"{n}-{i}@x.test"}).id)

    threads = [threading.Thread(target=make, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 60
    listed = [c.id for c in client.v1.customers.list(params={"limit": 100}).data]
    assert sorted(listed) == sorted(results)


def test_the_request_log_keeps_parameter_names_and_meaningful_headers(sandbox, client):
    """What a contract test needs to check a client against Stripe's documentation,
    and nothing secret: no key, no parameter values (Stripe.js sends card numbers)."""
    account = client.v1.accounts.create(params={"type": "express"})
    sandbox.control("DELETE", "/_sandbox/requests")
    client.v1.customers.create(
        params={"email": "log@x.test", "metadata": {"user_id": "7"}, "preferred_locales": ["fr"]},
        options={"idempotency_key": "user-7-customer", "stripe_account": account.id},
    )
    client.v1.balance.retrieve()
    (create, balance) = sandbox.control("GET", "/_sandbox/requests")["requests"]
    assert (create["method"], create["path"], create["status"]) == ("POST", "/v1/customers", 200)
    assert create["fields"] == ["email", "metadata[user_id]", "preferred_locales[0]"]
    headers = create["headers"]
    assert headers["Idempotency-Key"] == "user-7-customer"
    assert headers["Stripe-Account"] == account.id
    assert headers["Stripe-Version"] == stripe.api_version
    assert "Authorization" not in headers
    assert "log@x.test" not in str(create)
    assert (balance["method"], balance["fields"]) == ("GET", [])
    assert "Idempotency-Key" not in balance["headers"]
