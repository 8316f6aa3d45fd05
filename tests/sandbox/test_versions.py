"""API versions: the Stripe-Version header, webhook endpoints' versions, and events
rendered in the version of the endpoint they are delivered to (issue #18, item 8)."""

from __future__ import annotations

import pytest
import stripe

from stripe_sandbox import versions

OLD = "2023-08-16"


def test_an_unknown_stripe_version_is_refused_as_stripe_does(sandbox):
    client = sandbox.client(stripe_version="2099-01-01.nope")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.list()
    assert refused.value.http_status == 400
    assert refused.value.user_message == "Invalid Stripe API version: 2099-01-01.nope"


def test_a_known_older_version_is_accepted_and_echoed(sandbox):
    listing = sandbox.client(stripe_version=OLD).v1.customers.list()
    assert listing.last_response.headers["Stripe-Version"] == OLD


def test_an_endpoint_has_the_accounts_version_unless_it_names_one(client):
    default = client.v1.webhook_endpoints.create(
        params={"url": "https://x.test/a", "enabled_events": ["charge.succeeded"]}
    )
    assert default.api_version == versions.DEFAULT
    pinned = client.v1.webhook_endpoints.create(
        params={"url": "https://x.test/b", "enabled_events": ["*"], "api_version": OLD}
    )
    assert pinned.api_version == OLD
    assert client.v1.webhook_endpoints.retrieve(pinned.id).api_version == OLD


def test_an_endpoint_with_an_unknown_version_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.webhook_endpoints.create(
            params={"url": "https://x.test/a", "enabled_events": ["*"], "api_version": "2019-01-01"}
        )
    assert refused.value.param == "api_version"
    assert client.v1.webhook_endpoints.list().data == []


def test_an_endpoints_version_and_connect_cannot_be_updated(client):
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": "https://x.test/a", "enabled_events": ["*"]}
    )
    for params in ({"api_version": OLD}, {"connect": True}):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.webhook_endpoints.update(endpoint.id, params=params)
        assert refused.value.code == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.webhook_endpoints.update(endpoint.id, params={"url": "ftp://x.test/a"})
    assert refused.value.param == "url"
    updated = client.v1.webhook_endpoints.update(
        endpoint.id,
        params={"url": "https://x.test/b", "enabled_events": ["charge.refunded"], "disabled": True},
    )
    assert (updated.url, updated.enabled_events, updated.status) == (
        "https://x.test/b",
        ["charge.refunded"],
        "disabled",
    )


def test_each_endpoint_gets_events_in_its_own_version(sandbox, client, receiver):
    for path, version in (("/old", OLD), ("/new", None)):
        params = {"url": f"{receiver.url}{path}", "enabled_events": ["customer.created"]}
        if version:
            params["api_version"] = version
        client.v1.webhook_endpoints.create(params=params)
    customer = client.v1.customers.create(params={"email": "v@x.test"})
    got = receiver.wait_for(lambda rs: {"/old", "/new"} <= {r.path for r in rs})
    delivered = {r.path: r.event for r in got if r.event["type"] == "customer.created"}
    assert delivered["/old"]["api_version"] == OLD
    assert delivered["/new"]["api_version"] == versions.DEFAULT
    assert delivered["/platform"]["api_version"] == versions.DEFAULT  # `--forward`
    assert delivered["/old"]["id"] == delivered["/new"]["id"]
    assert delivered["/old"]["data"]["object"]["id"] == customer.id
    # The stored event keeps the account's version.
    assert client.v1.events.retrieve(delivered["/old"]["id"]).api_version == versions.DEFAULT
