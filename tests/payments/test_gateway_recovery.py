"""Every write of the gateway against the sandbox, through a 500 Stripe stored for
its idempotency key (issue #18, item 6).

Stripe stores the first result for a key, 500s included, for 24 hours. Before the
gateway knew, a retry with the same key got the same 500 all day. Now: after a
500 it looks at what the write did; if it took effect (`500_after`: the sandbox ran
the write, then answered 500) the gateway returns the object, once; if nothing was
written (`500`), the next call moves past the stored 500 to the next key.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import stripe

from payments import gateway
from stripe_sandbox.testing import SandboxHandle, run_sandbox
from tests.sandbox.helpers import PNG, custom_account, destination_payment

pytestmark = pytest.mark.sandbox

PREFIX = "test-install"


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxHandle]:
    with run_sandbox() as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server: SandboxHandle, settings) -> Iterator[SandboxHandle]:
    """The real gateway pointed at a freshly reset sandbox. The SDK may retry: a
    stored 500 tells it not to, as Stripe's do."""
    sandbox_server.reset()
    settings.STRIPE_API_BASE = sandbox_server.base_url
    settings.STRIPE_SECRET_KEY = sandbox_server.secret_key
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    settings.STRIPE_IDEMPOTENCY_PREFIX = PREFIX
    gateway.reset_client()
    yield sandbox_server
    gateway.reset_client()


def fail(sandbox: SandboxHandle, path: str, kind: str, count: int = 1) -> None:
    """Inject the fault, and forget the calls so far (the setup's)."""
    sandbox.control(
        "POST", "/_sandbox/faults", {"method": "POST", "path": path, "kind": kind, "count": count}
    )
    sandbox.control("DELETE", "/_sandbox/requests")


def keys_sent(sandbox: SandboxHandle, path: str) -> list[str]:
    return [
        call["headers"].get("Idempotency-Key", "")
        for call in sandbox.control("GET", f"/_sandbox/requests?path={path}")["requests"]
        if call["method"] == "POST" and call["path"] == path
    ]


@dataclass
class Write:
    """One gateway write: how to set it up, call it, and count what it made."""

    name: str
    path: Callable[[dict], str]  # the POST path, from the setup's objects
    call: Callable[[dict], dict]
    count: Callable[[stripe.StripeClient, dict], int]
    setup: Callable[[stripe.StripeClient], dict] = lambda client: {}


def _authorised(client: stripe.StripeClient) -> dict:
    account = custom_account(client)
    intent = destination_payment(client, account.id, 10_000, 1_030, capture=False)
    return {"account": account.id, "intent": intent.id}


def _captured(client: stripe.StripeClient) -> dict:
    objects = _authorised(client)
    intent = client.v1.payment_intents.capture(objects["intent"])
    objects["transfer"] = client.v1.charges.retrieve(intent.latest_charge).transfer
    return objects


def _buyer(client: stripe.StripeClient) -> dict:
    account = custom_account(client)
    customer = client.v1.customers.create(params={"email": "buyer@x.test"})
    return {"account": account.id, "customer": customer.id}


def _saved_card(client: stripe.StripeClient) -> dict:
    customer = client.v1.customers.create(params={"email": "card@x.test"})
    card = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    return {"customer": customer.id, "card": card.id}


def _platform_charge(client: stripe.StripeClient) -> dict:
    """A checkout's platform charge, captured, and a contractor to pay from it."""
    account = custom_account(client)
    intent = client.v1.payment_intents.create(
        params={
            "amount": 9_000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "transfer_group": "checkout-8",
        }
    )
    return {"account": account.id, "charge": intent.latest_charge}


def _unpaid(client: stripe.StripeClient) -> dict:
    intent = client.v1.payment_intents.create(params={"amount": 9_000, "currency": "usd"})
    return {"intent": intent.id}


def _refunds(client: stripe.StripeClient, objects: dict) -> int:
    return len(client.v1.refunds.list(params={"payment_intent": objects["intent"]}).data)


def _captures(client: stripe.StripeClient, objects: dict) -> int:
    intent = client.v1.payment_intents.retrieve(objects["intent"])
    return int(intent.status == "succeeded")


WRITES = [
    Write(
        "payment_intent_capture",
        lambda o: f"/v1/payment_intents/{o['intent']}/capture",
        lambda o: gateway.payment_intent_capture(
            payment_intent=o["intent"], idempotency_key="payment-1-capture"
        ),
        _captures,
        _authorised,
    ),
    Write(
        "payment_intent_cancel",
        lambda o: f"/v1/payment_intents/{o['intent']}/cancel",
        lambda o: gateway.payment_intent_cancel(
            payment_intent=o["intent"], idempotency_key="payment-1-cancel", reason="abandoned"
        ),
        lambda c, o: int(c.v1.payment_intents.retrieve(o["intent"]).status == "canceled"),
        _authorised,
    ),
    Write(
        "refund_create",
        lambda o: "/v1/refunds",
        lambda o: gateway.refund_create(
            payment_intent=o["intent"],
            amount=2_500,
            reason="requested_by_customer",
            reverse_transfer=True,
            refund_application_fee=False,
            refund_id=7,
            idempotency_key="refund-7",
        ),
        _refunds,
        _captured,
    ),
    Write(
        "payment_intent_create",
        lambda o: "/v1/payment_intents",
        lambda o: gateway.payment_intent_create(
            amount=5_000,
            currency="usd",
            customer=o["customer"],
            destination=o["account"],
            application_fee_amount=530,
            order_id=3,
            order_public_id="0d6c9f1e-order-3",
            idempotency_key="payment-3-intent",
        ),
        lambda c, o: len(c.v1.payment_intents.list(params={"customer": o["customer"]}).data),
        _buyer,
    ),
    Write(
        "platform_payment_intent_create",
        lambda o: "/v1/payment_intents",
        lambda o: gateway.platform_payment_intent_create(
            amount=9_000,
            currency="usd",
            customer=o["customer"],
            transfer_group="0d6c9f1e-checkout-4",
            checkout_id="0d6c9f1e-checkout-4",
            order_ids=[4, 5],
            idempotency_key="payment-4-intent",
        ),
        lambda c, o: len(c.v1.payment_intents.list(params={"customer": o["customer"]}).data),
        _buyer,
    ),
    Write(
        "payment_intent_update",
        lambda o: f"/v1/payment_intents/{o['intent']}",
        lambda o: gateway.payment_intent_update(
            payment_intent=o["intent"], amount=6_000, idempotency_key="payment-4-amount-6000"
        ),
        lambda c, o: int(c.v1.payment_intents.retrieve(o["intent"]).amount == 6_000),
        _unpaid,
    ),
    Write(
        "payment_intent_shipping_update",
        lambda o: f"/v1/payment_intents/{o['intent']}",
        lambda o: gateway.payment_intent_shipping_update(
            payment_intent=o["intent"],
            shipping={
                "name": "Ada Lovelace",
                "address": {"line1": "12 Main Street", "city": "Albany", "country": "US"},
            },
            idempotency_key="payment-4-shipping-1",
        ),
        lambda c, o: int(
            (c.v1.payment_intents.retrieve(o["intent"]).to_dict().get("shipping") or {}).get("name")
            == "Ada Lovelace"
        ),
        _unpaid,
    ),
    Write(
        "transfer_create",
        lambda o: "/v1/transfers",
        lambda o: gateway.transfer_create(
            amount=8_000,
            currency="usd",
            destination=o["account"],
            source_transaction=o["charge"],
            transfer_group="checkout-8",
            order_id=8,
            transfer_id=3,
            idempotency_key="transfer-3",
        ),
        lambda c, o: len(c.v1.transfers.list(params={"transfer_group": "checkout-8"}).data),
        _platform_charge,
    ),
    Write(
        "transfer_reversal_create",
        lambda o: f"/v1/transfers/{o['transfer']}/reversals",
        lambda o: gateway.transfer_reversal_create(
            transfer=o["transfer"], amount=1_000, debit_id=5, idempotency_key="debit-5"
        ),
        lambda c, o: len(c.v1.transfers.reversals.list(o["transfer"]).data),
        _captured,
    ),
    Write(
        "account_debit_create",
        lambda o: "/v1/charges",
        lambda o: gateway.account_debit_create(
            account=o["account"],
            amount=800,
            currency="usd",
            debit_id=6,
            reason="No-show",
            idempotency_key="debit-6",
        ),
        lambda c, o: len(
            [ch for ch in c.v1.charges.list().data if ch.to_dict()["metadata"] == {"debit_id": "6"}]
        ),
        _buyer,
    ),
    Write(
        "customer_create",
        lambda o: "/v1/customers",
        lambda o: gateway.customer_create(
            email="new@x.test", name="New Buyer", user_id=11, idempotency_key="user-11-customer"
        ),
        lambda c, o: len(c.v1.customers.list(params={"email": "new@x.test"}).data),
    ),
    Write(
        "account_create",
        lambda o: "/v1/accounts",
        lambda o: gateway.account_create(
            email="maker@x.test",
            user_id=12,
            account_type="express",
            country="US",
            idempotency_key="user-12-account",
        ),
        lambda c, o: len(c.v1.accounts.list().data),
    ),
    Write(
        "file_upload",
        lambda o: "/v1/files",
        lambda o: gateway.file_upload(
            file=io.BytesIO(PNG),
            filename="passport.png",
            account=o["account"],
            idempotency_key="document-9-front",
        ),
        # The account's own identity documents (custom_account's) are its files too.
        lambda c, o: len(
            [
                f
                for f in c.v1.files.list(options={"stripe_account": o["account"]}).data
                if f.filename == "passport.png"
            ]
        ),
        lambda c: {"account": custom_account(c).id},
    ),
    Write(
        "payment_method_detach",
        lambda o: f"/v1/payment_methods/{o['card']}/detach",
        lambda o: gateway.payment_method_detach(
            payment_method=o["card"], idempotency_key="checkout-1-forget"
        ),
        lambda c, o: int(c.v1.payment_methods.retrieve(o["card"]).customer is None),
        _saved_card,
    ),
    Write(
        "webhook_endpoint_create",
        lambda o: "/v1/webhook_endpoints",
        lambda o: gateway.webhook_endpoint_create(
            url="https://shop.test/payments/webhooks/stripe/",
            enabled_events=["charge.refunded"],
            connect=False,
            description="Marketplace platform events",
            metadata={"marketplace_endpoint": "platform"},
            idempotency_key="stripe-setup-platform-1",
        ),
        lambda c, o: len(c.v1.webhook_endpoints.list().data),
    ),
]


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.name)
def test_a_write_that_took_effect_before_the_500_is_returned_once(sandbox, write):
    client = sandbox.client()
    objects = write.setup(client)
    path = write.path(objects)
    fail(sandbox, path, "500_after")

    result = write.call(objects)
    # A task retried after the first answer was lost gets the same object back.
    again = write.call(objects)

    assert result["id"] == again["id"]
    assert write.count(client, objects) == 1
    # No second write was sent: the stored 500 was replayed, and the check found it.
    assert set(keys_sent(sandbox, path)) == {f"{PREFIX}:{_key_of(write, objects)}"}


def _key_of(write: Write, objects: dict) -> str:
    """The key the write sends (read back from the sandbox's request log)."""
    return {
        "payment_intent_capture": "payment-1-capture",
        "payment_intent_cancel": "payment-1-cancel-abandoned",
        "refund_create": "refund-7",
        "payment_intent_create": "payment-3-intent",
        "transfer_reversal_create": "debit-5",
        "platform_payment_intent_create": "payment-4-intent",
        "payment_intent_update": "payment-4-amount-6000",
        "payment_intent_shipping_update": "payment-4-shipping-1",
        "transfer_create": "transfer-3",
        "account_debit_create": "debit-6",
        "customer_create": "user-11-customer",
        "account_create": "user-12-account",
        "file_upload": "document-9-front",
        "payment_method_detach": "checkout-1-forget",
        "webhook_endpoint_create": "stripe-setup-platform-1",
    }[write.name]


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.name)
def test_after_a_500_that_wrote_nothing_the_retry_uses_the_next_key(sandbox, write):
    client = sandbox.client()
    objects = write.setup(client)
    path = write.path(objects)
    fail(sandbox, path, "500")

    with pytest.raises(gateway.GatewayUnavailable):
        write.call(objects)  # the task backs off, as for any outage
    assert write.count(client, objects) == 0

    result = write.call(objects)  # the task's retry
    assert result["id"]
    assert write.count(client, objects) == 1
    key = f"{PREFIX}:{_key_of(write, objects)}"
    # The stored 500 was replayed once (nothing written: proven), then a new key.
    assert keys_sent(sandbox, path) == [key, key, f"{key}/retry-1"]


def test_a_retry_past_the_retries_still_writes_once(sandbox):
    """Two tasks (a redelivered message) retrying one capture walk the same keys:
    Stripe's idempotency keeps them to one capture."""
    client = sandbox.client()
    objects = _authorised(client)
    fail(sandbox, f"/v1/payment_intents/{objects['intent']}/capture", "500")
    with pytest.raises(gateway.GatewayUnavailable):
        gateway.payment_intent_capture(
            payment_intent=objects["intent"], idempotency_key="payment-1-capture"
        )
    first = gateway.payment_intent_capture(
        payment_intent=objects["intent"], idempotency_key="payment-1-capture"
    )
    second = gateway.payment_intent_capture(
        payment_intent=objects["intent"], idempotency_key="payment-1-capture"
    )
    assert first["id"] == second["id"]
    assert first["status"] == second["status"] == "succeeded"
    balance = client.v1.balance.retrieve(options={"stripe_account": objects["account"]})
    assert sum(entry.amount for entry in [*balance.available, *balance.pending]) == 10_000 - 1_030


def test_a_cancel_with_another_reason_is_another_request(sandbox):
    """Before: `payment-N-cancel` sent with a second reason was Stripe's 400
    idempotency_error. Now each reason has its key; the second is Stripe's own
    answer about the intent (already canceled)."""
    client = sandbox.client()
    objects = _authorised(client)
    gateway.payment_intent_cancel(
        payment_intent=objects["intent"],
        idempotency_key="payment-1-cancel",
        reason="requested_by_customer",
    )
    with pytest.raises(gateway.GatewayRejected) as refused:
        gateway.payment_intent_cancel(
            payment_intent=objects["intent"], idempotency_key="payment-1-cancel", reason="abandoned"
        )
    assert refused.value.code == "payment_intent_unexpected_state"


def test_two_installs_sharing_a_stripe_account_do_not_share_keys(sandbox, settings):
    """Payment 1 of one install is not payment 1 of another: before the prefix, the
    second install's capture got the first's answer (for another intent)."""
    client = sandbox.client()
    ours, theirs = _authorised(client), _authorised(client)
    gateway.payment_intent_capture(
        payment_intent=ours["intent"], idempotency_key="payment-1-capture"
    )
    settings.STRIPE_IDEMPOTENCY_PREFIX = "other-install"
    captured = gateway.payment_intent_capture(
        payment_intent=theirs["intent"], idempotency_key="payment-1-capture"
    )
    assert captured["id"] == theirs["intent"]
    assert captured["status"] == "succeeded"
