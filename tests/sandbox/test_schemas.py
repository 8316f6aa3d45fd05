"""Responses validated against Stripe's published object schemas.

The 2023-08-16 OpenAPI spec lives in ``../shared/stripe`` beside the repository.
It predates some fields, so the check is of the fields the spec knows: extra
properties are allowed. ``nullable`` (OpenAPI 3.0) is translated to JSON Schema.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from .helpers import PNG, custom_account, destination_payment, file_like

SPEC = Path(__file__).resolve().parents[3] / "shared" / "stripe" / "openapi-spec3-2023-08-16.json"
pytestmark = pytest.mark.skipif(not SPEC.exists(), reason=f"Stripe's OpenAPI spec is not at {SPEC}")


def _to_json_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {
        key: _to_json_schema(value)
        for key, value in node.items()
        if not key.startswith("x-") and key != "additionalProperties"
    }
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@cache
def validator_for(name: str) -> Any:
    import jsonschema
    from referencing import Registry, Resource

    spec = json.loads(SPEC.read_text())
    converted = _to_json_schema(spec)
    registry = Registry().with_resource(
        "spec",
        Resource.from_contents(
            converted,
            default_specification=__import__(
                "referencing.jsonschema", fromlist=["DRAFT202012"]
            ).DRAFT202012,
        ),
    )
    schema = {"$ref": f"spec#/components/schemas/{name}"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _leaves(error: Any) -> list[Any]:
    """The innermost reasons of an ``anyOf`` failure, which say what is wrong."""
    if not error.context:
        return [error]
    return [leaf for sub in error.context for leaf in _leaves(sub)]


def assert_valid(name: str, body: dict) -> None:
    errors = sorted(validator_for(name).iter_errors(body), key=lambda e: list(e.path))
    reasons = [leaf for error in errors for leaf in _leaves(error)]
    assert not errors, "\n".join(
        f"{name} {list(e.absolute_path)}: {e.message[:160]}" for e in reasons[:12]
    )


def raw(sandbox, method: str, path: str, account: str | None = None, **kwargs) -> dict:
    headers = {"Authorization": f"Bearer {sandbox.secret_key}"}
    if account:
        headers["Stripe-Account"] = account
    response = httpx.request(method, f"{sandbox.base_url}{path}", headers=headers, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_objects_match_the_published_schemas(sandbox, client):
    account = custom_account(client)
    express = client.v1.accounts.create(params={"type": "express"})
    customer = client.v1.customers.create(params={"email": "s@x.test"})
    intent = destination_payment(client, account.id, 4_000, 400, capture=False)
    held = raw(sandbox, "GET", f"/v1/payment_intents/{intent.id}")
    assert_valid("payment_intent", held)
    client.v1.payment_intents.capture(intent.id)
    refund = client.v1.refunds.create(
        params={
            "payment_intent": intent.id,
            "amount": 1_000,
            "reverse_transfer": True,
            "refund_application_fee": True,
        }
    )
    charge = raw(
        sandbox, "GET", f"/v1/charges/{intent.latest_charge}", params={"expand[]": "refunds"}
    )
    declined = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"})
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(
            declined.id, params={"payment_method": "pm_card_chargeDeclined"}
        )
    three_ds = client.v1.payment_intents.create(
        params={
            "amount": 900,
            "currency": "usd",
            "payment_method": "pm_card_threeDSecure2Required",
            "confirm": True,
        }
    )
    upload = client.v1.files.create(
        params={"purpose": "identity_document", "file": file_like("a.png", PNG)}
    )
    link = raw(
        sandbox,
        "POST",
        "/v1/account_links",
        data={
            "account": express.id,
            "type": "account_onboarding",
            "refresh_url": "https://x.test/r",
            "return_url": "https://x.test/ok",
        },
    )
    payout = client.v1.payouts.create(
        params={"amount": 500, "currency": "usd"}, options={"stripe_account": account.id}
    )
    setup = client.v1.setup_intents.create(params={"customer": customer.id})
    endpoint = raw(
        sandbox,
        "POST",
        "/v1/webhook_endpoints",
        data={"url": "https://x.test/hook", "enabled_events[]": "charge.succeeded"},
    )
    fee_id = charge["application_fee"]
    samples = {
        "customer": raw(sandbox, "GET", f"/v1/customers/{customer.id}"),
        "payment_intent": raw(sandbox, "GET", f"/v1/payment_intents/{intent.id}"),
        "charge": charge,
        "refund": raw(sandbox, "GET", f"/v1/refunds/{refund.id}"),
        "transfer": raw(sandbox, "GET", f"/v1/transfers/{charge['transfer']}"),
        "transfer_reversal": raw(
            sandbox,
            "GET",
            f"/v1/transfers/{charge['transfer']}/reversals/{refund.transfer_reversal}",
        ),
        "application_fee": raw(sandbox, "GET", f"/v1/application_fees/{fee_id}"),
        "balance": raw(sandbox, "GET", "/v1/balance"),
        "balance_transaction": raw(sandbox, "GET", "/v1/balance_transactions")["data"][0],
        "account": raw(sandbox, "GET", f"/v1/accounts/{account.id}"),
        "account_link": link,
        "file": raw(sandbox, "GET", f"/v1/files/{upload.id}"),
        "payout": raw(sandbox, "GET", f"/v1/payouts/{payout.id}", account=account.id),
        "setup_intent": raw(sandbox, "GET", f"/v1/setup_intents/{setup.id}"),
        "webhook_endpoint": endpoint,
        "event": raw(sandbox, "GET", "/v1/events")["data"][0],
        "payment_method": raw(sandbox, "GET", f"/v1/payment_methods/{held['payment_method']}"),
    }
    samples["fee_refund"] = samples["application_fee"]["refunds"]["data"][0]
    for name, body in samples.items():
        assert body["object"] == name, name
        assert_valid(name, body)
    assert_valid("account", raw(sandbox, "GET", f"/v1/accounts/{express.id}"))
    assert_valid("payment_intent", raw(sandbox, "GET", f"/v1/payment_intents/{declined.id}"))
    assert_valid("payment_intent", raw(sandbox, "GET", f"/v1/payment_intents/{three_ds.id}"))
    failed = raw(sandbox, "GET", "/v1/charges", params={"payment_intent": declined.id})
    assert_valid("charge", failed["data"][0])
