"""/metrics: Prometheus text, only for the holder of METRICS_TOKEN."""

import pytest

from core.metrics import WEBHOOK_EVENTS
from tests.ops.test_payments_health import overdue_capture

pytestmark = pytest.mark.django_db


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404


def test_a_wrong_token_is_401(client, settings):
    settings.METRICS_TOKEN = "scrape-secret-123"

    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer guess")

    assert response.status_code == 401


def test_the_scraper_sees_counters_and_backlog_gauges(client, settings):
    settings.METRICS_TOKEN = "scrape-secret-123"
    overdue_capture()
    WEBHOOK_EVENTS.labels(type="payment_intent.succeeded", outcome="processed").inc()

    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-123")

    text = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "shop_captures_overdue 1.0" in text
    assert "shop_webhook_oldest_unprocessed_seconds 0.0" in text
    assert 'shop_webhook_events_total{outcome="processed",type="payment_intent.succeeded"}' in text
