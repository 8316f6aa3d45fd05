"""The gateway's contract with Stripe: every request each gateway function sends is
one Stripe documents (issue #18, done-when).

Each function runs against the sandbox, which records every request (method, path,
parameter names, the Idempotency-Key, Stripe-Account and Stripe-Version headers).
Each recorded request is then checked against Stripe's published OpenAPI spec,
read at test time from ../shared/stripe beside the repository: the path and
method exist, every parameter name (nested ones too: `transfer_data[destination]`)
is one the spec lists for them. Writes must carry our prefixed idempotency key,
Connect calls the account, every call the pinned API version.

The spec is of 2023-08-16; the shop speaks the pinned, newer version. Parameters
newer than the spec are listed in NEWER_THAN_SPEC, each checked to be in the
installed SDK's own description of the request (so it is Stripe's, just newer).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import stripe
import stripe.params as sp

from payments import gateway
from stripe_sandbox.testing import SandboxHandle, run_sandbox
from tests.sandbox.helpers import PNG, custom_account, destination_payment, upload_document

SPEC = Path(__file__).resolve().parents[3] / "shared" / "stripe" / "openapi-spec3-2023-08-16.json"
pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(not SPEC.exists(), reason=f"Stripe's OpenAPI spec is not at {SPEC}"),
]
PREFIX = "contract"

# (method, spec path) → parameters newer than the 2023-08-16 spec, and the SDK's
# description of the request they must be in.
NEWER_THAN_SPEC: dict[tuple[str, str], tuple[set[str], type]] = {
    # `payment_method_types` was renamed; older versions refuse the new name (why
    # STRIPE_API_VERSION may not be set older than the pin).
    ("POST", "/v1/payment_intents"): (
        {"allowed_payment_method_types"},
        sp.PaymentIntentCreateParams,
    ),
}


# --- Stripe's spec ----------------------------------------------------------------------


@cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


@cache
def templates() -> list[tuple[re.Pattern[str], str]]:
    """Spec paths as patterns; paths without placeholders first (`/v1/accounts`
    before `/v1/accounts/{account}`)."""
    paths = sorted(spec()["paths"], key=lambda path: path.count("{"))
    return [(re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", p) + "$"), p) for p in paths]


def template_of(path: str) -> str | None:
    return next((template for pattern, template in templates() if pattern.match(path)), None)


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def documented_parameters(method: str, template: str) -> dict[str, dict]:
    """The parameters the spec lists for a request, by name, with their schemas."""
    operation = spec()["paths"][template][method.lower()]
    if method == "GET":
        return {
            p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "query"
        }
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/x-www-form-urlencoded") or content.get("multipart/form-data")
    return resolve(body["schema"]).get("properties", {}) if body else {}


def documented(schema: dict, parts: list[str]) -> bool:
    """Whether the nested parameter `parts` (`["transfer_data", "destination"]`) has
    a place in `schema`."""
    if not parts:
        return True
    schema = resolve(schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return any(documented(option, parts) for option in options)
    head, rest = parts[0], parts[1:]
    if schema.get("type") == "array":
        return head.isdigit() and documented(schema.get("items", {}), rest)
    if head in schema.get("properties", {}):
        return documented(schema["properties"][head], rest)
    extra = schema.get("additionalProperties")
    return isinstance(extra, dict) and documented(extra, rest)  # a map: metadata[…]


def field_parts(field: str) -> list[str]:
    """`transfer_data[destination]` → ["transfer_data", "destination"]."""
    head, _, rest = field.partition("[")
    return [head, *re.findall(r"([^\[\]]*)\]", "[" + rest)] if rest else [head]


def undocumented(call: dict) -> list[str]:
    """What in a recorded request Stripe's spec does not know (empty: all of it)."""
    template = template_of(call["path"])
    if template is None or call["method"].lower() not in spec()["paths"][template]:
        return [f"{call['method']} {call['path']} is not a documented endpoint"]
    parameters = documented_parameters(call["method"], template)
    newer, sdk_params = NEWER_THAN_SPEC.get((call["method"], template), (set(), None))
    problems = []
    for field in call["fields"]:
        parts = field_parts(field)
        if parts[0] in newer:
            assert parts[0] in sdk_params.__annotations__, f"{parts[0]} is not Stripe's at all"
            continue
        if parts[0] not in parameters or not documented(parameters[parts[0]], parts[1:]):
            problems.append(f"{call['method']} {template}: {field}")
    return problems


# --- the calls ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxHandle]:
    with run_sandbox() as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server: SandboxHandle, settings) -> Iterator[SandboxHandle]:
    sandbox_server.reset()
    settings.STRIPE_API_BASE = sandbox_server.base_url
    settings.STRIPE_SECRET_KEY = sandbox_server.secret_key
    settings.STRIPE_IDEMPOTENCY_PREFIX = PREFIX
    gateway.reset_client()
    yield sandbox_server
    gateway.reset_client()


@pytest.fixture
def world(sandbox: SandboxHandle) -> dict[str, str]:
    """The Stripe objects the calls act on, made with the SDK directly."""
    client = sandbox.client()
    account = custom_account(client)
    authorised = destination_payment(client, account.id, 10_000, 1_030, capture=False)
    captured = destination_payment(client, account.id, 8_000, 830)
    charge = client.v1.charges.retrieve(captured.latest_charge)
    reversal = client.v1.transfers.reversals.create(charge.transfer, params={"amount": 100})
    customer = client.v1.customers.create(params={"email": "buyer@x.test"})
    card = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": "https://shop.test/hook", "enabled_events": ["charge.refunded"]}
    )
    express = client.v1.accounts.create(params={"type": "custom", "country": "US"})
    # A checkout's platform charge (separate charges and transfers), captured, and one
    # still waiting for its card.
    platform = client.v1.payment_intents.create(
        params={
            "amount": 9_000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "transfer_group": "checkout-1",
        }
    )
    unpaid = client.v1.payment_intents.create(
        params={"amount": 9_000, "currency": "usd", "transfer_group": "checkout-2"}
    )
    disputed = destination_payment(client, account.id, 5_000, 500, card="pm_card_createDispute")
    return {
        "platform_charge": platform.latest_charge,
        "unpaid": unpaid.id,
        "account": account.id,
        "custom": express.id,
        "front": upload_document(client, express.id),
        "authorised": authorised.id,
        "captured": captured.id,
        "charge": charge.id,
        "transfer": charge.transfer,
        "reversal": reversal.id,
        "customer": customer.id,
        "card": card.id,
        "endpoint": endpoint.id,
        "setup_intent": client.v1.setup_intents.create(params={"customer": customer.id}).id,
        "dispute": client.v1.disputes.list({"payment_intent": disputed.id}).data[0].id,
    }


Call = Callable[[dict[str, str]], Any]

# Every gateway function: how to call it, the request it must send (method, the
# spec's path), and whether that request acts for the connected account.
CALLS: dict[str, tuple[Call, str, str, bool]] = {
    "customer_create": (
        lambda w: gateway.customer_create(
            email="c@x.test", name="C", user_id=1, idempotency_key="user-1-customer"
        ),
        "POST",
        "/v1/customers",
        False,
    ),
    "customer_payment_methods": (
        lambda w: gateway.customer_payment_methods(customer=w["customer"]),
        "GET",
        "/v1/customers/{customer}/payment_methods",
        False,
    ),
    "payment_method_detach": (
        lambda w: gateway.payment_method_detach(payment_method=w["card"], idempotency_key="f-1"),
        "POST",
        "/v1/payment_methods/{payment_method}/detach",
        False,
    ),
    "setup_intent_create": (
        lambda w: gateway.setup_intent_create(
            customer=w["customer"], attempt="a-1", idempotency_key="user-1-add-card-a-1"
        ),
        "POST",
        "/v1/setup_intents",
        False,
    ),
    "payment_intent_payment_method_set": (
        lambda w: gateway.payment_intent_payment_method_set(
            payment_intent=w["unpaid"], payment_method=w["card"], idempotency_key="payment-5-card"
        ),
        "POST",
        "/v1/payment_intents/{intent}",
        False,
    ),
    "setup_intent_confirm": (
        lambda w: gateway.setup_intent_confirm(
            setup_intent=w["setup_intent"], payment_method="pm_card_visa", idempotency_key="s-1"
        ),
        "POST",
        "/v1/setup_intents/{intent}/confirm",
        False,
    ),
    "setup_intent_retrieve": (
        lambda w: gateway.setup_intent_retrieve(setup_intent=w["setup_intent"]),
        "GET",
        "/v1/setup_intents/{intent}",
        False,
    ),
    "customer_retrieve": (
        lambda w: gateway.customer_retrieve(customer=w["customer"]),
        "GET",
        "/v1/customers/{customer}",
        False,
    ),
    "payment_method_retrieve": (
        lambda w: gateway.payment_method_retrieve(payment_method=w["card"]),
        "GET",
        "/v1/payment_methods/{payment_method}",
        False,
    ),
    "customer_default_payment_method_set": (
        lambda w: gateway.customer_default_payment_method_set(
            customer=w["customer"], payment_method=w["card"], idempotency_key="user-1-default"
        ),
        "POST",
        "/v1/customers/{customer}",
        False,
    ),
    "customer_email_update": (
        lambda w: gateway.customer_email_update(
            customer=w["customer"], email="new@x.test", idempotency_key="customer-email-1"
        ),
        "POST",
        "/v1/customers/{customer}",
        False,
    ),
    "payment_intent_create": (
        lambda w: gateway.payment_intent_create(
            amount=5_000,
            currency="usd",
            customer=w["customer"],
            destination=w["account"],
            application_fee_amount=530,
            order_id=1,
            order_public_id="order-1",
            idempotency_key="payment-1-intent",
        ),
        "POST",
        "/v1/payment_intents",
        False,
    ),
    "platform_payment_intent_create": (
        lambda w: gateway.platform_payment_intent_create(
            amount=9_000,
            currency="usd",
            customer=w["customer"],
            transfer_group="checkout-3",
            checkout_id="checkout-3",
            order_ids=[3, 4],
            idempotency_key="payment-3-intent",
        ),
        "POST",
        "/v1/payment_intents",
        False,
    ),
    "payment_intent_update": (
        lambda w: gateway.payment_intent_update(
            payment_intent=w["unpaid"], amount=4_000, idempotency_key="payment-5-amount-4000"
        ),
        "POST",
        "/v1/payment_intents/{intent}",
        False,
    ),
    "payment_intent_shipping_update": (
        lambda w: gateway.payment_intent_shipping_update(
            payment_intent=w["unpaid"],
            shipping={
                "name": "Ada Lovelace",
                "address": {"line1": "1 Main St", "city": "Albany", "country": "US"},
            },
            idempotency_key="payment-5-shipping-1",
        ),
        "POST",
        "/v1/payment_intents/{intent}",
        False,
    ),
    "transfer_create": (
        lambda w: gateway.transfer_create(
            amount=4_000,
            currency="usd",
            destination=w["account"],
            source_transaction=w["platform_charge"],
            transfer_group="checkout-1",
            order_id=1,
            transfer_id=1,
            idempotency_key="transfer-1",
        ),
        "POST",
        "/v1/transfers",
        False,
    ),
    "transfer_list": (
        lambda w: gateway.transfer_list(transfer_group="checkout-1"),
        "GET",
        "/v1/transfers",
        False,
    ),
    "payment_intent_retrieve": (
        lambda w: gateway.payment_intent_retrieve(payment_intent=w["captured"], expand_charge=True),
        "GET",
        "/v1/payment_intents/{intent}",
        False,
    ),
    "payment_intent_list": (
        lambda w: gateway.payment_intent_list(
            created_gte=int(time.time()) - 3600, starting_after=w["captured"]
        ),
        "GET",
        "/v1/payment_intents",
        False,
    ),
    "payment_intent_capture": (
        lambda w: gateway.payment_intent_capture(
            payment_intent=w["authorised"],
            idempotency_key="payment-2-capture",
            amount_to_capture=6_000,
            application_fee_amount=630,
        ),
        "POST",
        "/v1/payment_intents/{intent}/capture",
        False,
    ),
    "payment_intent_cancel": (
        lambda w: gateway.payment_intent_cancel(
            payment_intent=w["authorised"], idempotency_key="payment-2-cancel", reason="abandoned"
        ),
        "POST",
        "/v1/payment_intents/{intent}/cancel",
        False,
    ),
    "refund_create": (
        lambda w: gateway.refund_create(
            payment_intent=w["captured"],
            amount=1_000,
            reason="requested_by_customer",
            reverse_transfer=True,
            refund_application_fee=True,
            refund_id=1,
            idempotency_key="refund-1",
        ),
        "POST",
        "/v1/refunds",
        False,
    ),
    "refund_list": (
        lambda w: gateway.refund_list(payment_intent=w["captured"]),
        "GET",
        "/v1/refunds",
        False,
    ),
    "charge_retrieve": (
        lambda w: gateway.charge_retrieve(charge=w["charge"]),
        "GET",
        "/v1/charges/{charge}",
        False,
    ),
    "account_create": (
        lambda w: gateway.account_create(
            email="m@x.test",
            user_id=2,
            account_type="express",
            country="US",
            idempotency_key="user-2-account",
        ),
        "POST",
        "/v1/accounts",
        False,
    ),
    "account_retrieve": (
        lambda w: gateway.account_retrieve(account=w["account"]),
        "GET",
        "/v1/accounts/{account}",
        False,
    ),
    "account_link_create": (
        lambda w: gateway.account_link_create(
            account=w["custom"],
            refresh_url="https://shop.test/refresh",
            return_url="https://shop.test/done",
            idempotency_key="user-3-link-1",
        ),
        "POST",
        "/v1/account_links",
        False,
    ),
    "account_update_custom": (
        lambda w: gateway.account_update_custom(
            account=w["custom"],
            individual={
                "first_name": "Jenny",
                "last_name": "Rosen",
                "dob": {"day": 1, "month": 2, "year": 1990},
                "verification": {"document": {"front": w["front"]}},
            },
            tos_date=1_700_000_000,
            tos_ip="203.0.113.9",
            idempotency_key="user-3-onboarding",
        ),
        "POST",
        "/v1/accounts/{account}",
        False,
    ),
    "account_debit_create": (
        lambda w: gateway.account_debit_create(
            account=w["account"],
            amount=500,
            currency="usd",
            debit_id=1,
            reason="No-show",
            idempotency_key="debit-1",
        ),
        "POST",
        "/v1/charges",
        False,
    ),
    "transfer_reversal_create": (
        lambda w: gateway.transfer_reversal_create(
            transfer=w["transfer"], amount=200, debit_id=2, idempotency_key="debit-2"
        ),
        "POST",
        "/v1/transfers/{id}/reversals",
        False,
    ),
    "transfer_reversal_retrieve": (
        lambda w: gateway.transfer_reversal_retrieve(
            transfer=w["transfer"], reversal=w["reversal"]
        ),
        "GET",
        "/v1/transfers/{transfer}/reversals/{id}",
        False,
    ),
    "balance_retrieve": (
        lambda w: gateway.balance_retrieve(account=w["account"]),
        "GET",
        "/v1/balance",
        True,
    ),
    "file_upload": (
        lambda w: gateway.file_upload(
            file=io.BytesIO(PNG),
            filename="id.png",
            account=w["custom"],
            idempotency_key="document-1-front",
        ),
        "POST",
        "/v1/files",
        True,
    ),
    "dispute_retrieve": (
        lambda w: gateway.dispute_retrieve(dispute=w["dispute"]),
        "GET",
        "/v1/disputes/{dispute}",
        False,
    ),
    "dispute_list": (
        lambda w: gateway.dispute_list(created_gte=int(time.time()) - 3600),
        "GET",
        "/v1/disputes",
        False,
    ),
    "dispute_update": (
        lambda w: gateway.dispute_update(
            dispute=w["dispute"],
            evidence={"product_description": "A bowl", "customer_email_address": "b@x.test"},
            submit=False,
            idempotency_key="dispute-action-1",
        ),
        "POST",
        "/v1/disputes/{dispute}",
        False,
    ),
    "dispute_close": (
        lambda w: gateway.dispute_close(dispute=w["dispute"], idempotency_key="dispute-action-2"),
        "POST",
        "/v1/disputes/{dispute}/close",
        False,
    ),
    "dispute_evidence_upload": (
        lambda w: gateway.dispute_evidence_upload(
            file=io.BytesIO(PNG), filename="receipt.png", idempotency_key="dispute-1-file"
        ),
        "POST",
        "/v1/files",
        False,
    ),
    "dispute_transfer_reverse": (
        lambda w: gateway.dispute_transfer_reverse(
            transfer=w["transfer"],
            amount=100,
            dispute_id=w["dispute"],
            action_id=4,
            idempotency_key="dispute-action-4",
        ),
        "POST",
        "/v1/transfers/{id}/reversals",
        False,
    ),
    "dispute_funds_return": (
        lambda w: gateway.dispute_funds_return(
            amount=100,
            currency="usd",
            destination=w["account"],
            dispute_id=w["dispute"],
            order_id=1,
            action_id=3,
            idempotency_key="dispute-action-3",
        ),
        "POST",
        "/v1/transfers",
        False,
    ),
    "webhook_endpoint_list": (
        lambda w: gateway.webhook_endpoint_list(),
        "GET",
        "/v1/webhook_endpoints",
        False,
    ),
    "webhook_endpoint_delete": (
        lambda w: gateway.webhook_endpoint_delete(endpoint=w["endpoint"]),
        "DELETE",
        "/v1/webhook_endpoints/{webhook_endpoint}",
        False,
    ),
    "webhook_endpoint_create": (
        lambda w: gateway.webhook_endpoint_create(
            url="https://shop.test/payments/webhooks/connect/",
            enabled_events=["account.updated"],
            connect=True,
            description="Marketplace connect events",
            metadata={"marketplace_endpoint": "connect"},
            idempotency_key="stripe-setup-connect-1",
        ),
        "POST",
        "/v1/webhook_endpoints",
        False,
    ),
    "webhook_endpoint_update": (
        lambda w: gateway.webhook_endpoint_update(
            endpoint=w["endpoint"],
            url="https://shop.test/payments/webhooks/stripe/",
            enabled_events=["charge.refunded"],
            description="Marketplace platform events",
            metadata={"marketplace_endpoint": "platform"},
            idempotency_key="stripe-setup-platform-1",
        ),
        "POST",
        "/v1/webhook_endpoints/{webhook_endpoint}",
        False,
    ),
    "payout_create": (
        lambda w: gateway.payout_create(
            account=w["account"],
            amount=1_000,
            currency="usd",
            request_id=1,
            idempotency_key="payout-request-1",
        ),
        "POST",
        "/v1/payouts",
        True,
    ),
    "balance_pending_list": (
        lambda w: gateway.balance_pending_list(account=w["account"]),
        "GET",
        "/v1/balance_transactions",
        True,
    ),
}
# Verifies a signature locally: no request at all.
NO_REQUEST = {"webhook_event_construct"}


def recorded(sandbox: SandboxHandle) -> list[dict]:
    return sandbox.control("GET", "/_sandbox/requests")["requests"]


def assert_documented(calls: list[dict], world: dict[str, str], *, connected: bool) -> None:
    """Every recorded call is one Stripe documents, with the headers it needs."""
    problems = [problem for call in calls for problem in undocumented(call)]
    assert not problems, "\n".join(problems)
    for call in calls:
        headers = call["headers"]
        assert headers["Stripe-Version"] == gateway.PINNED_API_VERSION
        if call["method"] == "POST":
            assert headers["Idempotency-Key"].startswith(f"{PREFIX}:"), call
        else:
            assert "Idempotency-Key" not in headers, call
        account = headers.get("Stripe-Account")
        # Identity documents are the connected account's files; dispute evidence is ours.
        own_file = call["path"] == "/v1/files" and connected
        assert account == (world["custom"] if own_file else None) or (
            connected and account == world["account"]
        ), call


def test_every_gateway_function_is_in_the_contract():
    assert {call.__name__ for call in gateway.CALLS} == set(CALLS) | NO_REQUEST


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_request_is_one_stripe_documents(sandbox, world, name):
    call, method, template, connected = CALLS[name]
    sandbox.control("DELETE", "/_sandbox/requests")

    call(world)

    calls = recorded(sandbox)
    assert [(c["method"], template_of(c["path"]), c["status"]) for c in calls][:1] == [
        (method, template, 200)
    ]
    assert_documented(calls, world, connected=connected)


WRITES = sorted(name for name, (_, method, _, _) in CALLS.items() if method == "POST")


@pytest.mark.parametrize("name", WRITES)
def test_the_look_up_after_a_500_is_one_stripe_documents(sandbox, world, name):
    """After a 500 the gateway re-reads Stripe: those reads are held to the spec too."""
    call, method, template, connected = CALLS[name]
    sandbox.control("DELETE", "/_sandbox/requests")
    sandbox.control(
        "POST", "/_sandbox/faults", {"method": "POST", "path": "/v1/*", "kind": "500_after"}
    )

    # A write that leaves nothing to look for (a link, an update) is not looked
    # for: it raises, for its task to retry.
    with contextlib.suppress(gateway.GatewayUnavailable):
        call(world)

    calls = recorded(sandbox)
    assert calls[0]["status"] == 500
    assert_documented(calls, world, connected=connected)


def test_webhook_event_construct_sends_nothing(sandbox):
    sandbox.control("DELETE", "/_sandbox/requests")
    payload = json.dumps({"id": "evt_1", "object": "event"}).encode()
    timestamp = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(
        f"{timestamp}.{payload.decode()}", "whsec_test"
    )
    event = gateway.webhook_event_construct(
        payload=payload, signature=f"t={timestamp},v1={signature}", secret="whsec_test"
    )
    assert event["id"] == "evt_1"
    assert recorded(sandbox) == []


def test_the_checker_catches_an_undocumented_parameter():
    """The check itself: a misspelt or made-up parameter is caught."""
    fake = {"method": "POST", "path": "/v1/refunds", "fields": ["payment_intent", "ammount"]}
    assert undocumented(fake) == ["POST /v1/refunds: ammount"]
    nested = {"method": "POST", "path": "/v1/payment_intents", "fields": ["transfer_data[dest]"]}
    assert undocumented(nested) == ["POST /v1/payment_intents: transfer_data[dest]"]
    unknown = {"method": "POST", "path": "/v1/nothing", "fields": []}
    assert undocumented(unknown) == ["POST /v1/nothing is not a documented endpoint"]
