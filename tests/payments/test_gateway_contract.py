"""The gateway's contract with Stripe: every request each gateway function sends is
one Stripe documents (issue #18, done-when).

Each function runs against the sandbox, which records every request (method, path,
parameter names, the Idempotency-Key, Stripe-Account and Stripe-Version headers).
Each recorded request is then checked against Stripe's published OpenAPI spec,
read at test time from ../shared/stripe beside the repository: the path and
method exist, every parameter name (nested ones too: `transfer_data[destination]`)
is one the spec lists for them. Writes must carry our prefixed idempotency key,
Connect calls the account, every call the pinned API version.

The sandbox runs with `record_values=True` (tests only), so each request's values
are checked too, against the spec's schema of each parameter, nested ones
included: type (a form sends strings, so an integer or boolean must read as one),
`enum`, `maxLength`, `anyOf` (like "" to unset), and the `required` parameters
of the request body and of every object sent.

The spec is of 2023-08-16; the shop speaks the pinned, newer version. Parameters
newer than the spec are listed in NEWER_THAN_SPEC, values newer than the spec's
enums in NEWER_VALUES_THAN_SPEC, each checked to be in the installed SDK's own
description of the request (so it is Stripe's, just newer). And every request,
not only those, is checked against that description: SDK_PARAMS names the SDK's
typed params of each (method, path), and every parameter sent, nested ones too,
must be a field of it.

Last, the main requests are compared with the example requests of Stripe's
documentation (tests/payments/contract_examples.py): each parameter and header
an example sends for a purpose, ours sends too, or the table says why not.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import time
import types
import typing
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import stripe
import stripe.params as sp
import typing_extensions
from stripe._request_options import RequestOptions

from payments import gateway
from stripe_sandbox.testing import SandboxHandle, run_sandbox
from tests.payments.contract_examples import EXAMPLES
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

# (method, spec path, parameter) → the SDK's params, for a value the spec's enum
# does not list yet (it must be in the SDK's Literal for that parameter instead).
NEWER_VALUES_THAN_SPEC: dict[tuple[str, str, str], type] = {
    # Endpoints render events in the pinned version, newer than the spec's list.
    ("POST", "/v1/webhook_endpoints", "api_version"): sp.WebhookEndpointCreateParams,
    # The handlers' events include `refund.failed`, newer than the spec's list.
    ("POST", "/v1/webhook_endpoints", "enabled_events"): sp.WebhookEndpointCreateParams,
    (
        "POST",
        "/v1/webhook_endpoints/{webhook_endpoint}",
        "enabled_events",
    ): sp.WebhookEndpointUpdateParams,
}

# (method, spec path) → the SDK's typed params of that request: every request the
# gateway sends, its look-ups after a 500 included.
SDK_PARAMS: dict[tuple[str, str], type] = {
    ("GET", "/v1/accounts"): sp.AccountListParams,
    ("POST", "/v1/accounts"): sp.AccountCreateParams,
    ("GET", "/v1/accounts/{account}"): sp.AccountRetrieveParams,
    ("POST", "/v1/accounts/{account}"): sp.AccountUpdateParams,
    ("POST", "/v1/account_links"): sp.AccountLinkCreateParams,
    ("GET", "/v1/balance"): sp.BalanceRetrieveParams,
    ("GET", "/v1/balance_transactions"): sp.BalanceTransactionListParams,
    ("GET", "/v1/charges"): sp.ChargeListParams,
    ("POST", "/v1/charges"): sp.ChargeCreateParams,
    ("GET", "/v1/charges/{charge}"): sp.ChargeRetrieveParams,
    ("GET", "/v1/customers"): sp.CustomerListParams,
    ("POST", "/v1/customers"): sp.CustomerCreateParams,
    ("GET", "/v1/customers/{customer}"): sp.CustomerRetrieveParams,
    ("POST", "/v1/customers/{customer}"): sp.CustomerUpdateParams,
    ("GET", "/v1/customers/{customer}/payment_methods"): sp.CustomerPaymentMethodListParams,
    ("GET", "/v1/disputes"): sp.DisputeListParams,
    ("GET", "/v1/disputes/{dispute}"): sp.DisputeRetrieveParams,
    ("POST", "/v1/disputes/{dispute}"): sp.DisputeUpdateParams,
    ("POST", "/v1/disputes/{dispute}/close"): sp.DisputeCloseParams,
    ("GET", "/v1/files"): sp.FileListParams,
    ("POST", "/v1/files"): sp.FileCreateParams,
    ("GET", "/v1/payment_intents"): sp.PaymentIntentListParams,
    ("POST", "/v1/payment_intents"): sp.PaymentIntentCreateParams,
    ("GET", "/v1/payment_intents/{intent}"): sp.PaymentIntentRetrieveParams,
    ("POST", "/v1/payment_intents/{intent}"): sp.PaymentIntentUpdateParams,
    ("POST", "/v1/payment_intents/{intent}/cancel"): sp.PaymentIntentCancelParams,
    ("POST", "/v1/payment_intents/{intent}/capture"): sp.PaymentIntentCaptureParams,
    ("GET", "/v1/payment_methods/{payment_method}"): sp.PaymentMethodRetrieveParams,
    ("POST", "/v1/payment_methods/{payment_method}/detach"): sp.PaymentMethodDetachParams,
    ("GET", "/v1/payouts"): sp.PayoutListParams,
    ("POST", "/v1/payouts"): sp.PayoutCreateParams,
    ("GET", "/v1/refunds"): sp.RefundListParams,
    ("POST", "/v1/refunds"): sp.RefundCreateParams,
    ("GET", "/v1/setup_intents"): sp.SetupIntentListParams,
    ("POST", "/v1/setup_intents"): sp.SetupIntentCreateParams,
    ("GET", "/v1/setup_intents/{intent}"): sp.SetupIntentRetrieveParams,
    ("POST", "/v1/setup_intents/{intent}/confirm"): sp.SetupIntentConfirmParams,
    ("GET", "/v1/transfers"): sp.TransferListParams,
    ("POST", "/v1/transfers"): sp.TransferCreateParams,
    ("GET", "/v1/transfers/{id}/reversals"): sp.TransferReversalListParams,
    ("POST", "/v1/transfers/{id}/reversals"): sp.TransferReversalCreateParams,
    ("GET", "/v1/transfers/{transfer}/reversals/{id}"): sp.TransferReversalRetrieveParams,
    ("GET", "/v1/webhook_endpoints"): sp.WebhookEndpointListParams,
    ("POST", "/v1/webhook_endpoints"): sp.WebhookEndpointCreateParams,
    ("POST", "/v1/webhook_endpoints/{webhook_endpoint}"): sp.WebhookEndpointUpdateParams,
    ("DELETE", "/v1/webhook_endpoints/{webhook_endpoint}"): sp.WebhookEndpointDeleteParams,
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


def request_body(template: str) -> dict:
    """The schema of a POST's form (or multipart) body."""
    content = spec()["paths"][template]["post"].get("requestBody", {}).get("content", {})
    body = content.get("application/x-www-form-urlencoded") or content.get("multipart/form-data")
    return resolve(body["schema"]) if body else {}


def missing_required(call: dict) -> list[str]:
    """The parameters the spec requires of a POST's body that it lacks."""
    template = template_of(call["path"])
    if call["method"] != "POST" or template is None or "post" not in spec()["paths"][template]:
        return []
    sent = {field_parts(field)[0] for field in call["fields"]}
    required = request_body(template).get("required", [])
    return [f"POST {template}: {name} is required" for name in required if name not in sent]


def tree_of(values: dict[str, Any]) -> dict[str, Any]:
    """Recorded leaf values (`{"transfer_data[destination]": "acct_1"}`) as the
    nested form they came from; an array is a dict keyed "0", "1"…"""
    tree: dict[str, Any] = {}
    for field, value in values.items():
        *path, leaf = field_parts(field)
        node = tree
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


SCALARS: dict[str, Callable[[str], bool]] = {
    "string": lambda value: True,
    "integer": lambda value: re.fullmatch(r"-?\d+", value) is not None,
    "number": lambda value: re.fullmatch(r"-?\d+(\.\d+)?", value) is not None,
    "boolean": lambda value: value in ("true", "false"),
}


def schema_problems(schema: dict, value: Any, name: str) -> list[str]:
    """Why `value` (a form value: a string, or a dict of them) does not fit the
    spec's `schema` (empty: it fits)."""
    schema = resolve(schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        found = [schema_problems(option, value, name) for option in options]
        if any(not problems for problems in found):
            return []
        # The one alternative of the value's shape (a hash, or not) says best why not.
        hashes = ("object", "array")
        shaped = [
            problems
            for option, problems in zip(options, found, strict=True)
            if (resolve(option).get("type") in hashes) == isinstance(value, dict)
        ]
        if len(shaped) == 1:
            return shaped[0]
        return [f"{name}: {value!r} fits none of anyOf ({'; '.join(sum(found, []))})"]
    kind = schema.get("type")
    if isinstance(value, dict):
        if kind == "array":
            return [
                problem
                for key, item in value.items()
                for problem in (
                    schema_problems(schema.get("items", {}), item, f"{name}[{key}]")
                    if key.isdigit()
                    else [f"{name}[{key}]: an array takes indexes"]
                )
            ]
        if kind != "object":
            return [f"{name}: sent as a hash, the spec wants {kind}"]
        problems = [
            f"{name}[{key}] is required" for key in schema.get("required", []) if key not in value
        ]
        properties, extra = schema.get("properties", {}), schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                problems += schema_problems(properties[key], item, f"{name}[{key}]")
            elif isinstance(extra, dict):
                problems += schema_problems(extra, item, f"{name}[{key}]")
            else:
                problems.append(f"{name}[{key}] is not in the spec")
        return problems
    if kind in ("object", "array"):
        return [f"{name}: {value!r} sent where the spec wants an {kind}"]
    if kind in SCALARS and not SCALARS[kind](value):
        return [f"{name}: {value!r} is not of type {kind}"]
    if "enum" in schema and value not in [json.dumps(o).strip('"') for o in schema["enum"]]:
        return [f"{name}: {value!r} is not one of {schema['enum']}"]
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return [f"{name}: {len(value)} characters, over maxLength {schema['maxLength']}"]
    return []


def invalid_values(call: dict) -> list[str]:
    """What in a recorded request's values the spec's schemas refuse (empty: none).
    Names the spec does not know are left to `undocumented`, newer ones to the SDK."""
    template = template_of(call["path"])
    if template is None or call["method"].lower() not in spec()["paths"][template]:
        return []
    method = call["method"]
    parameters = documented_parameters(method, template)
    newer, _ = NEWER_THAN_SPEC.get((method, template), (set(), None))
    problems = []
    for name, value in tree_of(call["values"]).items():
        sdk_params = NEWER_VALUES_THAN_SPEC.get((method, template, name))
        if sdk_params is not None:
            allowed = sdk_literals(sdk_params, name)
            problems += [
                f"{name}: {leaf!r} is not one of {sdk_params.__name__}'s"
                for leaf in (value.values() if isinstance(value, dict) else [value])
                if leaf not in allowed
            ]
        elif name in parameters and name not in newer:
            problems += schema_problems(parameters[name], value, name)
    return [f"{method} {template}: {problem}" for problem in problems]


# --- the SDK's typed params ----------------------------------------------------------------

REQUEST_OPTIONS = frozenset(RequestOptions.__annotations__)
OPTIONAL = {typing.NotRequired, typing.Required, typing_extensions.NotRequired}
UNIONS = {typing.Union, types.UnionType}


def sdk_type(annotation: Any, module: str) -> Any:
    """An annotation of the SDK's params, forward references evaluated where the
    class is defined, `NotRequired[…]` unwrapped."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        annotation = eval(annotation, vars(sys.modules[module]))  # noqa: S307 - the SDK's own
    if typing.get_origin(annotation) in OPTIONAL:
        return sdk_type(typing.get_args(annotation)[0], module)
    return annotation


def sdk_accepts(annotation: Any, parts: list[str], module: str) -> bool:
    """Whether the nested parameter `parts` has a place in an SDK annotation (a
    TypedDict, a list, a dict like `metadata`, a union of them, or a scalar)."""
    annotation = sdk_type(annotation, module)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in UNIONS:
        return any(sdk_accepts(option, parts, module) for option in args)
    if typing_extensions.is_typeddict(annotation):
        fields = annotation.__annotations__
        return (
            bool(parts)
            and parts[0] in fields
            and (sdk_accepts(fields[parts[0]], parts[1:], annotation.__module__))
        )
    if origin is list:
        return bool(parts) and parts[0].isdigit() and sdk_accepts(args[0], parts[1:], module)
    if origin is not None and origin not in (typing.Literal,) and args:  # Dict[str, str]…
        return bool(parts) and sdk_accepts(args[-1], parts[1:], module)
    return not parts  # a scalar: str, int, bool, a Literal, Any


def sdk_literals(sdk_params: type, name: str) -> set[str]:
    """The values a Literal parameter (or a list of them) of the SDK's params lists."""

    def values(annotation: Any) -> set[str]:
        annotation = sdk_type(annotation, sdk_params.__module__)
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is typing.Literal:
            return {str(value) for value in args}
        if origin in UNIONS or origin is list:
            return set().union(*(values(arg) for arg in args))
        return set()

    return values(sdk_params.__annotations__[name])


def not_in_sdk(call: dict) -> list[str]:
    """The parameters of a recorded request that the SDK's typed params of that
    request do not have (empty: all of them are there)."""
    template = template_of(call["path"])
    sdk_params = SDK_PARAMS.get((call["method"], template or call["path"]))
    if sdk_params is None:
        return [f"{call['method']} {template or call['path']}: no SDK params in SDK_PARAMS"]
    fields = sdk_params.__annotations__  # a TypedDict's own and inherited ones
    return [
        f"{call['method']} {template}: {field} is not in {sdk_params.__name__}"
        for field in call["fields"]
        if (parts := field_parts(field))[0] in REQUEST_OPTIONS
        or parts[0] not in fields
        or not sdk_accepts(fields[parts[0]], parts[1:], sdk_params.__module__)
    ]


# --- the calls ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxHandle]:
    # Values recorded too (tests only): checked against the spec's schemas.
    with run_sandbox(record_values=True) as handle:
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


def handled_events(role: str) -> list[str]:
    """The events `manage.py stripe_setup` subscribes the `role` endpoint to."""
    from payments.management.commands.stripe_setup import event_types
    from payments.webhooks.registry import CONNECT, PLATFORM

    return event_types({"connect": CONNECT, "platform": PLATFORM}[role])


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
    "dispute_transfer_reversal_made": (
        lambda w: gateway.dispute_transfer_reversal_made(
            transfer=w["transfer"], dispute_id=w["dispute"], action_id=4
        ),
        "GET",
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
            enabled_events=handled_events("connect"),
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
            enabled_events=handled_events("platform"),
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
    """Every recorded call is one Stripe documents, with the headers it needs: its
    parameters are in the spec (or newer and in the SDK), with values the spec's
    schemas allow, the required ones all there, and all in the SDK's typed params."""
    checks = (undocumented, missing_required, invalid_values, not_in_sdk)
    problems = [problem for call in calls for check in checks for problem in check(call)]
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


def test_every_request_has_the_sdks_typed_params():
    """Each request a gateway function sends has its SDK params in SDK_PARAMS, and
    each of those is the SDK's (a look-up after a 500 is checked when it is sent)."""
    sent = {(method, template) for _, method, template, _ in CALLS.values()}
    assert sent - set(SDK_PARAMS) == set()
    for (method, template), sdk_params in SDK_PARAMS.items():
        assert method.lower() in spec()["paths"][template], (method, template)
        assert getattr(sp, sdk_params.__name__) is sdk_params
        assert typing_extensions.is_typeddict(sdk_params)


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


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_the_request_is_the_one_stripes_docs_show(sandbox, world, example):
    """Each parameter (and header) Stripe's example request sends, ours sends for
    the same purpose, or the example's table says which of ours does and why."""
    documented = EXAMPLES[example]
    assert set(documented.differs) <= documented.fields, documented.page
    for name in documented.calls:
        call, method, template, _ = CALLS[name]
        assert (method, template) == (documented.method, documented.template), name
        sandbox.control("DELETE", "/_sandbox/requests")
        call(world)
        sent = recorded(sandbox)[0]
        assert (sent["method"], template_of(sent["path"]), sent["status"]) == (
            method,
            template,
            200,
        )

        def uses(field: str, sent: dict = sent) -> bool:
            return any(f == field or f.startswith(f"{field}[") for f in sent["fields"])

        for field in documented.fields:
            ours, why = documented.differs.get(field, (field, ""))
            assert why or uses(field), f"{name} does not send {field} ({documented.page})"
            if why:
                assert not uses(field), f"{name} sends {field}: drop it from `differs`"
                assert ours is None or uses(ours), f"{name} sends neither {field} nor {ours}"
        assert documented.headers <= set(sent["headers"]), (name, documented.page)


def test_the_checker_catches_an_undocumented_parameter():
    """The check itself: a misspelt or made-up parameter is caught."""
    fake = {"method": "POST", "path": "/v1/refunds", "fields": ["payment_intent", "ammount"]}
    assert undocumented(fake) == ["POST /v1/refunds: ammount"]
    nested = {"method": "POST", "path": "/v1/payment_intents", "fields": ["transfer_data[dest]"]}
    assert undocumented(nested) == ["POST /v1/payment_intents: transfer_data[dest]"]
    unknown = {"method": "POST", "path": "/v1/nothing", "fields": []}
    assert undocumented(unknown) == ["POST /v1/nothing is not a documented endpoint"]


def test_the_checker_catches_a_value_the_spec_does_not_allow():
    """Enum, type, maxLength and anyOf, nested ones too, and the SDK's Literal for
    a value newer than the spec."""
    intents, cancel = "/v1/payment_intents", "/v1/payment_intents/pi_1/cancel"

    def call(path: str, **values: str) -> dict:
        return {"method": "POST", "path": path, "fields": list(values), "values": values}

    template = "POST /v1/payment_intents/{intent}/cancel"
    assert invalid_values(call(cancel, cancellation_reason="abandoned")) == []
    assert invalid_values(call(cancel, cancellation_reason="expired")) == [
        f"{template}: cancellation_reason: 'expired' is not one of "
        "['abandoned', 'duplicate', 'fraudulent', 'requested_by_customer']"
    ]
    assert invalid_values(call(intents, amount="12.5")) == [
        "POST /v1/payment_intents: amount: '12.5' is not of type integer"
    ]
    assert invalid_values(call(intents, capture_method="manual", confirm="yes")) == [
        "POST /v1/payment_intents: confirm: 'yes' is not of type boolean"
    ]
    # anyOf: an update's metadata is a hash of strings, or "" to unset it; not "x".
    update = "/v1/payment_intents/pi_1"
    assert invalid_values(call(update, metadata="")) == []
    assert invalid_values(call(update, **{"metadata[order_id]": "1"})) == []
    assert invalid_values(call(update, metadata="x")) == [
        "POST /v1/payment_intents/{intent}: metadata: 'x' is not one of ['']"
    ]
    # A create's is a hash only.
    assert invalid_values(call(intents, metadata="")) == [
        "POST /v1/payment_intents: metadata: '' sent where the spec wants an object"
    ]
    (problem,) = invalid_values(call(intents, description="x" * 1001))
    assert problem.endswith("description: 1001 characters, over maxLength 1000")
    assert invalid_values(call(intents, **{"transfer_data[amount]": "ten"})) == [
        "POST /v1/payment_intents: transfer_data[destination] is required",
        "POST /v1/payment_intents: transfer_data[amount]: 'ten' is not of type integer",
    ]
    # A value newer than the spec is held to the SDK's Literal instead.
    hooks = "/v1/webhook_endpoints"
    newer = {"url": "https://x.test", "enabled_events[0]": "charge.refunded"}
    pinned = call(hooks, api_version=gateway.PINNED_API_VERSION, **newer)
    assert invalid_values(pinned) == []
    assert (
        invalid_values({**pinned, "values": {**newer, "enabled_events[1]": "refund.failed"}}) == []
    )
    wrong = {"api_version": "2099-01-01.nope", "enabled_events[1]": "refund.flopped"}
    assert sorted(invalid_values(call(hooks, **newer, **wrong))) == [
        f"POST /v1/webhook_endpoints: {name}: {value!r} is not one of WebhookEndpointCreateParams's"
        for name, value in [
            ("api_version", "2099-01-01.nope"),
            ("enabled_events", "refund.flopped"),
        ]
    ]


def test_the_checker_catches_a_missing_required_parameter():
    link = {"method": "POST", "path": "/v1/account_links", "fields": ["account", "refresh_url"]}
    assert missing_required(link) == ["POST /v1/account_links: type is required"]
    whole = {**link, "fields": ["account", "type"]}
    assert missing_required(whole) == []
    # Nested: a hash sent without what the spec requires of it.
    shipping = {"shipping[address][line1]": "1 Main St"}
    update = {"method": "POST", "path": "/v1/payment_intents/pi_1", "values": shipping}
    assert invalid_values(update) == [
        "POST /v1/payment_intents/{intent}: shipping[name] is required"
    ]


def test_the_checker_catches_a_parameter_not_in_the_sdk():
    """A parameter the SDK's typed params of that request lack, nested ones too: a
    spec-only name (old, since removed), a misplaced one, a request option."""
    refund = {"method": "POST", "path": "/v1/refunds", "fields": ["payment_intent", "amount"]}
    assert not_in_sdk(refund) == []
    assert not_in_sdk({**refund, "fields": ["payment_intent", "ammount"]}) == [
        "POST /v1/refunds: ammount is not in RefundCreateParams"
    ]
    intent = {"method": "POST", "path": "/v1/payment_intents", "fields": []}
    fine = ["transfer_data[destination]", "metadata[order_id]", "allowed_payment_method_types[0]"]
    assert not_in_sdk({**intent, "fields": fine}) == []
    # `metadata=""` unsets an update's metadata; a create has none to unset.
    wrong = ["transfer_data[dest]", "metadata", "payment_method_types[x]", "idempotency_key"]
    assert not_in_sdk({**intent, "fields": wrong}) == [
        f"POST /v1/payment_intents: {field} is not in PaymentIntentCreateParams" for field in wrong
    ]
    update = {"method": "POST", "path": "/v1/payment_intents/pi_1", "fields": ["metadata"]}
    assert not_in_sdk(update) == []
    unknown = {"method": "POST", "path": "/v1/coupons", "fields": []}
    assert not_in_sdk(unknown) == ["POST /v1/coupons: no SDK params in SDK_PARAMS"]
