"""The ``/v1`` pipeline's steps one at a time, without a server.

Each step of ``stripe_sandbox.server.api`` (faults, routing, authentication,
idempotency, validation, dispatch, storing the answer) is called directly; the
HTTP-level behaviour they add up to is in test_api_basics.py and
test_cross_site.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Coroutine
from typing import Any

import pytest
import stripe.params as sp

from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import StripeError
from stripe_sandbox.resources.common import Endpoint
from stripe_sandbox.sandbox import Ctx, Sandbox
from stripe_sandbox.server.api import (
    ApiApp,
    Call,
    Idempotency,
    Prepared,
    idempotency_scope,
    prepare_params,
)
from stripe_sandbox.server.auth import Credentials, authenticate, secret_key_presented

SK = "sk_test_pipeline_000000000"
PK = "pk_test_pipeline_000000000"


def _handler(ctx: Ctx, params: dict[str, Any], **path: str) -> dict[str, Any]:
    return {"object": "thing", "id": "thing_1", "params": params, "path": path}


SECRET_ONLY = Endpoint("POST", "/v1/things", _handler, sp.CustomerCreateParams)
STRIPE_JS = Endpoint(
    "POST", "/v1/payment_methods", _handler, sp.PaymentMethodCreateParams, publishable=True
)


def bearer(key: str, **extra: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}", **extra}


def error_of(step: Any, *args: Any) -> StripeError:
    with pytest.raises(StripeError) as info:
        step(*args)
    return info.value


def run(step: Coroutine[Any, Any, Any]) -> Any:
    """Run a step that never waits (no latency is set), without an event loop:
    the browser tests may leave one running in this thread."""
    try:
        step.send(None)
    except StopIteration as done:
        return done.value
    step.close()
    raise AssertionError("the step waited")


@pytest.fixture
def app() -> ApiApp:
    return ApiApp(Sandbox(SandboxConfig()))


def make_call(method: str = "POST", path: str = "/v1/customers", **headers: str) -> Call:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "headers": []}
    return Call(scope, receive, send, headers, None)


# --- authentication ------------------------------------------------------------------


def test_secret_key_acts_for_the_stripe_account_header():
    params = {"email": "a@example.com"}
    credentials = authenticate(bearer(SK, **{"stripe-account": "acct_1"}), params, SECRET_ONLY)
    assert credentials == Credentials(SK, False, "acct_1", params)
    assert authenticate(bearer(SK, **{"stripe-account": ""}), {}, SECRET_ONLY).account is None


def test_basic_auth_carries_the_key_as_user_name():
    token = base64.b64encode(f"{SK}:".encode()).decode()
    assert authenticate({"authorization": f"Basic {token}"}, {}, SECRET_ONLY).api_key == SK


@pytest.mark.parametrize(
    ("headers", "params", "message"),
    [
        ({}, {}, "You did not provide an API key"),
        (
            bearer("sk_live_0123456789abcdef"),
            {},
            "Invalid API Key provided: sk_live_************cdef",
        ),
        (bearer("sk_test_x"), {}, "Invalid API Key provided: ****"),
        (bearer(PK), {}, "cannot be made with a publishable API key"),
        (bearer(SK, origin="https://shop.test"), {}, "cannot be used from a web page"),
        ({}, {"key": SK}, "The key parameter only takes a publishable key"),
    ],
)
def test_refused_keys_are_stripe_401s(headers, params, message):
    error = error_of(authenticate, headers, params, SECRET_ONLY)
    assert error.status == 401
    assert message in error.error["message"]


def test_publishable_key_from_stripe_js_loses_its_telemetry():
    params = {
        "key": PK,
        "_stripe_account": "acct_2",
        "guid": "g",
        "type": "card",
        "payment_method_data": {"muid": "m", "billing_details": {"name": "J"}},
    }
    credentials = authenticate({"origin": "https://shop.test"}, params, STRIPE_JS)
    assert credentials.api_key == PK
    assert credentials.publishable
    # Stripe.js's own parameter wins over the header, as it names the connected account.
    assert credentials.account == "acct_2"
    assert credentials.params == {
        "type": "card",
        "payment_method_data": {"billing_details": {"name": "J"}},
    }
    assert "guid" in params  # the caller's tree is left as it was


@pytest.mark.parametrize(
    ("headers", "params", "presented"),
    [
        ({}, {}, False),
        (bearer(PK), {}, False),
        (bearer(SK), {}, True),
        ({"authorization": "Bearer junk"}, {}, True),
        ({}, {"key": PK}, False),
        ({}, {"key": SK}, True),
        # With an Authorization header, the `key` parameter is not looked at.
        (bearer(PK), {"key": SK}, False),
    ],
)
def test_secret_key_presented_decides_cors(headers, params, presented):
    assert secret_key_presented(headers, params) is presented


# --- idempotency ---------------------------------------------------------------------


def test_idempotency_scope_is_per_key_account_and_idempotency_key():
    call = make_call()
    credentials = Credentials(SK, False, "acct_1", {"b": "2", "a": "1"})
    scope = idempotency_scope(call, "order-7", credentials)
    assert scope == Idempotency(
        "order-7", f"{SK}|acct_1|order-7", 'POST /v1/customers {"a": "1", "b": "2"}'
    )
    assert idempotency_scope(call, None, credentials) is None
    assert idempotency_scope(call, "", credentials) is None


def test_idempotency_key_longer_than_255_characters_is_refused():
    credentials = Credentials(SK, False, None, {})
    assert idempotency_scope(make_call(), "k" * 255, credentials) is not None
    error = error_of(idempotency_scope, make_call(), "k" * 256, credentials)
    assert (error.status, error.error["param"]) == (400, "Idempotency-Key")


def test_replay_returns_the_stored_answer_and_refuses_other_parameters(app):
    first = Idempotency("k1", f"{SK}||k1", "POST /v1/customers {}")
    assert app._replay(first) is None
    app._remember(first, (402, b'{"error":{}}', {}), "req_first")
    status, body, headers = app._replay(first)
    assert (status, body) == (402, b'{"error":{}}')
    assert headers == {
        "Idempotent-Replayed": "true",
        "Idempotency-Key": "k1",
        "Original-Request": "req_first",
    }
    other = first._replace(fingerprint='POST /v1/customers {"email": "x"}')
    error = error_of(app._replay, other)
    assert (error.status, error.error["type"]) == (400, "idempotency_error")


def test_a_500_is_remembered_and_replayed_without_a_retry(app):
    """As Stripe: the same key gets the same 500, and the SDK is told not to retry."""
    scope = Idempotency("k2", f"{SK}||k2", "POST /v1/customers {}")
    app._remember(scope, (500, b"{}", {}), "req_1")
    status, _, headers = app._replay(scope)
    assert status == 500
    assert headers["Stripe-Should-Retry"] == "false"


def test_a_stored_answer_expires_after_24_hours(app):
    scope = Idempotency("k3", f"{SK}||k3", "POST /v1/customers {}")
    app._remember(scope, (200, b"{}", {}), "req_1")
    app.sandbox.clock.advance(24 * 3600 - 1)
    assert app._replay(scope) is not None
    app.sandbox.clock.advance(1)
    assert app._replay(scope) is None


# --- faults, routing, accounts ---------------------------------------------------------


def test_a_429_answers_before_anything_else(app):
    app.sandbox.faults.add("POST", "/v1/customers", "429", 1)
    with pytest.raises(StripeError) as info:
        run(app._apply_fault(make_call()))
    assert info.value.status == 429
    # The rule is used up: the next call goes through.
    assert run(app._apply_fault(make_call())) is None


@pytest.mark.parametrize("kind", ["500", "500_after", "drop_after"])
def test_server_errors_and_drop_after_are_left_for_where_they_happen(app, kind):
    app.sandbox.faults.add("POST", "/v1/customers", kind, 1)
    assert run(app._apply_fault(make_call())) == kind


def _prepared(app: ApiApp, key: str | None) -> Prepared:
    idempotency = Idempotency(key, f"{SK}||{key}", "POST /v1/things {}") if key else None
    ctx = Ctx(app.sandbox, idempotency_key=key)
    return Prepared(ctx, SECRET_ONLY, {"id": "x"}, {}, None, idempotency)


def test_an_injected_500_replaces_the_handler(app):
    status, body, headers = app._execute(_prepared(app, "k4"), "500")
    assert status == 500
    assert json.loads(body)["error"]["type"] == "api_error"
    assert headers == {"Idempotency-Key": "k4", "Stripe-Should-Retry": "false"}
    # Without a key nothing is stored, so a retry is worth it: no header says otherwise.
    assert app._execute(_prepared(app, None), "500")[2] == {}


def test_500_after_runs_the_handler_then_answers_500(app):
    ran: list[str] = []

    def handler(ctx: Ctx, params: dict[str, Any], **path: str) -> dict[str, Any]:
        ran.append(path["id"])
        return {"object": "thing", "id": "thing_1"}

    prepared = _prepared(app, "k5")._replace(
        endpoint=Endpoint("POST", "/v1/things/{id}", handler, sp.CustomerCreateParams)
    )
    assert app._execute(prepared, "500_after")[0] == 500
    assert ran == ["x"]
    assert app._execute(prepared, None)[0] == 200


def test_drop_closes_the_connection_at_once(app):
    app.sandbox.faults.add("POST", "/v1/*", "drop", 1)
    with pytest.raises(ConnectionAbortedError):
        run(app._apply_fault(make_call()))


def test_unknown_url_is_stripes_404(app):
    with pytest.raises(StripeError) as info:
        run(app._route(make_call("GET", "/v1/nothing")))
    assert info.value.status == 404
    assert info.value.error["message"].startswith("Unrecognized request URL (GET: /v1/nothing)")


def test_unknown_stripe_account_is_a_403(app):
    error = error_of(app._check_account, "acct_nope", SK)
    assert (error.status, error.code) == (403, "account_invalid")
    # The key is masked, keeping its length: the first 8 and last 4 characters show.
    assert f"'sk_test_{'*' * 14}0000'" in error.error["message"]


# --- validation and dispatch -----------------------------------------------------------


def test_prepare_params_validates_and_sets_expand_apart():
    credentials = Credentials(SK, False, None, {"email": "a@example.com", "expand": ["x"]})
    clean, expand = prepare_params(SECRET_ONLY, credentials, upload=("a.png", b"png"))
    assert clean == {"email": "a@example.com", "_upload": ("a.png", b"png")}
    assert expand == ["x"]
    bad = Credentials(SK, False, None, {"client_secret": "cs"})
    assert error_of(prepare_params, SECRET_ONLY, bad, None).code == "parameter_unknown"


def test_prepare_params_takes_raw_card_details_from_stripe_js_apart():
    card = {"number": "4242424242424242", "cvc": "123"}
    params = {"type": "card", "payment_method_data": {"type": "card", "card": card}}
    clean, _ = prepare_params(STRIPE_JS, Credentials(PK, True, None, params), None)
    assert clean == {"type": "card", "_card": card}


def test_dispatch_returns_a_handler_error_as_an_answer(app):
    def declines(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
        raise StripeError(402, "card_error", "declined", headers={"Stripe-Should-Retry": "false"})

    endpoint = Endpoint("POST", "/v1/declines", declines, sp.CustomerCreateParams)
    ctx = Ctx(app.sandbox, idempotency_key="k3")
    status, body, headers = app._dispatch(ctx, endpoint, {}, {}, None)
    assert status == 402
    assert json.loads(body)["error"]["message"] == "declined"
    assert headers == {"Idempotency-Key": "k3", "Stripe-Should-Retry": "false"}


def test_dispatch_renders_the_result_with_path_parameters(app):
    status, body, headers = app._dispatch(Ctx(app.sandbox), SECRET_ONLY, {"id": "x"}, {}, None)
    assert (status, headers) == (200, {})
    assert json.loads(body)["path"] == {"id": "x"}


def test_dispatch_lets_an_unexpected_error_through_to_become_a_500(app):
    def crashes(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
        raise ZeroDivisionError

    endpoint = Endpoint("POST", "/v1/crashes", crashes, sp.CustomerCreateParams)
    with pytest.raises(ZeroDivisionError):
        app._dispatch(Ctx(app.sandbox), endpoint, {}, {}, None)
