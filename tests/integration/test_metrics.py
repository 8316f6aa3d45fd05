"""/metrics counters move when a checkout runs through the real gateway and worker."""

import re

import pytest

from tests.integration.conftest import wait_for
from tests.integration.flows import captured_order, onboarded_contractor

pytestmark = [pytest.mark.sandbox, pytest.mark.celery_worker]
TOKEN = "scrape-secret-integration"


def scrape(client) -> dict[str, float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    values = {}
    for line in response.content.decode().splitlines():
        found = re.match(r"^(shop_\w+(?:\{[^}]*\})?) ([0-9.e+-]+)$", line)
        if found:
            values[found.group(1)] = float(found.group(2))
    return values


def moved(before, after, name) -> float:
    return after.get(name, 0.0) - before.get(name, 0.0)


def test_a_paid_and_captured_order_moves_the_counters(live_stack, client, settings):
    settings.METRICS_TOKEN = TOKEN
    seller = onboarded_contractor(live_stack, "metrics@example.com")
    before = scrape(client)

    captured_order(live_stack, seller, 4200)

    # Stripe's payment_intent.succeeded arrives after the capture's own answer was applied.
    received = 'shop_webhook_events_total{outcome="received",type="payment_intent.succeeded"}'
    processed = 'shop_webhook_events_total{outcome="processed",type="payment_intent.succeeded"}'
    wait_for(
        lambda: moved(before, scrape(client), processed) >= 1, what="the webhook to be counted"
    )
    after = scrape(client)
    capture = 'shop_stripe_calls_total{operation="payment_intent_capture",outcome="ok"}'
    created = 'shop_stripe_calls_total{operation="payment_intent_create",outcome="ok"}'
    processed = 'shop_webhook_events_total{outcome="processed",type="payment_intent.succeeded"}'
    received = 'shop_webhook_events_total{outcome="received",type="payment_intent.succeeded"}'
    assert moved(before, after, capture) == 1
    assert moved(before, after, created) == 1
    assert moved(before, after, received) >= 1
    assert moved(before, after, processed) >= 1
    assert (
        moved(before, after, 'shop_money_operations_total{operation="capture",outcome="succeeded"}')
        == 1
    )
    assert after["shop_captures_overdue"] == 0
    assert after['shop_stripe_call_seconds_count{operation="payment_intent_capture"}'] >= 1
