"""Webhook delivery: signatures, platform/Connect routing, retries, switches."""

from __future__ import annotations

import stripe

from .helpers import custom_account


def verify(request, secret: str) -> stripe.Event:
    return stripe.Webhook.construct_event(request.body, request.headers["Stripe-Signature"], secret)


def test_signed_platform_and_connect_deliveries(sandbox, client, receiver):
    account = custom_account(client)
    intent = client.v1.payment_intents.create(
        params={
            "amount": 5_000,
            "currency": "usd",
            "capture_method": "manual",
            "application_fee_amount": 500,
            "transfer_data": {"destination": account.id},
            "payment_method": "pm_card_visa",
            "confirm": True,
        },
        options={"idempotency_key": "pay-1"},
    )
    client.v1.payment_intents.capture(intent.id)
    got = receiver.wait_for(lambda rs: "payment_intent.succeeded" in [r.event["type"] for r in rs])
    platform = [r for r in got if r.path == "/platform"]
    for request in platform:
        event = verify(request, sandbox.webhook_secret)
        assert event.livemode is False
        assert "account" not in event
    created = next(
        verify(r, sandbox.webhook_secret)
        for r in platform
        if r.event["type"] == "payment_intent.created"
    )
    assert created.data.object.id == intent.id
    assert created.request.idempotency_key == "pay-1"
    assert created.api_version
    connect = receiver.wait_for(
        lambda rs: any(r.path == "/connect" and r.event["type"] == "balance.available" for r in rs)
    )
    connect = [r for r in connect if r.path == "/connect"]
    for request in connect:
        event = verify(request, sandbox.connect_webhook_secret)
        assert event.account == account.id
    types = receiver.types("/platform")
    assert types.index("payment_intent.created") < types.index("payment_intent.succeeded")
    assert {"transfer.created", "application_fee.created", "charge.captured"} <= set(types)
    bad = got[0]
    try:
        stripe.Webhook.construct_event(bad.body, bad.headers["Stripe-Signature"], "whsec_wrong")
        raise AssertionError("a wrong secret must not verify")
    except stripe.SignatureVerificationError:
        pass


def test_retries_after_a_500(sandbox, client, receiver):
    receiver.fail_next = 2
    customer = client.v1.customers.create(params={"email": "r@x.test"})
    got = receiver.wait_for(lambda rs: any(r.event["type"] == "customer.created" for r in rs))
    assert got[0].event["data"]["object"]["id"] == customer.id
    # The receiver sees the third attempt before the sandbox has logged its answer.
    import time

    deadline = time.monotonic() + 3
    while True:
        attempts = sandbox.control("GET", "/_sandbox/deliveries", None)["deliveries"]
        mine = [a for a in attempts if a["event_id"] == got[0].event["id"]]
        if len(mine) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert [a["status"] for a in mine] == [500, 500, 200]
    assert [a["attempt"] for a in mine] == [1, 2, 3]
    event = client.v1.events.list(params={"type": "customer.created"}).data[0]
    assert event.pending_webhooks == 0


def test_gives_up_after_max_attempts(sandbox, client, receiver):
    sandbox.control("POST", "/_sandbox/webhooks", {"max_attempts": 2})
    receiver.fail_next = 10
    client.v1.customers.create(params={"email": "g@x.test"})
    import time

    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        attempts = sandbox.control("GET", "/_sandbox/deliveries")["deliveries"]
        if len(attempts) >= 2:
            break
        time.sleep(0.02)
    time.sleep(0.3)
    attempts = sandbox.control("GET", "/_sandbox/deliveries")["deliveries"]
    assert [a["attempt"] for a in attempts] == [1, 2]
    assert client.v1.events.list().data[0].pending_webhooks == 1


def test_unreachable_endpoint_is_retried(sandbox, client):
    sandbox.control(
        "POST",
        "/_sandbox/webhooks",
        {"forward_url": "http://127.0.0.1:9/nothing", "max_attempts": 3},
    )
    client.v1.customers.create(params={"email": "u@x.test"})
    import time

    deadline = time.monotonic() + 3
    attempts = []
    while time.monotonic() < deadline and len(attempts) < 3:
        attempts = sandbox.control("GET", "/_sandbox/deliveries")["deliveries"]
        time.sleep(0.05)
    assert [a["status"] for a in attempts] == [None, None, None]
    assert all(a["error"] for a in attempts)


def test_duplicate_switch(sandbox, client, receiver):
    sandbox.control("POST", "/_sandbox/webhooks", {"duplicate": True})
    client.v1.customers.create(params={"email": "d@x.test"})
    got = receiver.wait_for(lambda rs: len(rs) >= 2)
    assert [r.event["type"] for r in got] == ["customer.created", "customer.created"]
    assert got[0].event["id"] == got[1].event["id"]


def test_reorder_switch(sandbox, client, receiver):
    sandbox.control("POST", "/_sandbox/webhooks", {"reorder": True})
    client.v1.payment_intents.create(
        params={
            "amount": 1_000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    got = receiver.wait_for(lambda rs: len(rs) >= 3)
    assert [r.event["type"] for r in got] == [
        "payment_intent.amount_capturable_updated",
        "charge.succeeded",
        "payment_intent.created",
    ]


def test_webhook_endpoints_api(sandbox, client, receiver):
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": f"{receiver.url}/registered", "enabled_events": ["customer.created"]}
    )
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.status == "enabled"
    assert "secret" not in client.v1.webhook_endpoints.retrieve(endpoint.id)
    assert [e.id for e in client.v1.webhook_endpoints.list().data] == [endpoint.id]
    client.v1.customers.create(params={"email": "w@x.test"})
    got = receiver.wait_for(lambda rs: any(r.path == "/registered" for r in rs))
    registered = next(r for r in got if r.path == "/registered")
    assert verify(registered, endpoint.secret).type == "customer.created"
    assert client.v1.webhook_endpoints.delete(endpoint.id).deleted is True


def test_an_endpoints_update_sets_its_metadata(client):
    """Stripe's update takes `metadata` (stripe_setup marks a hand-made endpoint as
    ours with it); before, the sandbox ignored it."""
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": "https://shop.test/hook", "enabled_events": ["charge.refunded"]}
    )
    assert endpoint.application is None
    updated = client.v1.webhook_endpoints.update(
        endpoint.id, params={"metadata": {"marketplace_endpoint": "platform"}}
    )
    assert updated.metadata.to_dict() == {"marketplace_endpoint": "platform"}
    assert client.v1.webhook_endpoints.retrieve(endpoint.id).metadata.to_dict() == {
        "marketplace_endpoint": "platform"
    }
