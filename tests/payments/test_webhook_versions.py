"""Events rendered in another API version than the handlers read (payments/webhooks/
versions.py).

Before: nothing read an event's `api_version`, so an endpoint made by hand in the
dashboard with an older version delivered older-shaped payloads that were parsed
silently. Now each is still processed, but logged, counted (/metrics) and reported
with the endpoint it came from.
"""

import logging

import pytest
from django.urls import reverse

from core.metrics import WEBHOOK_EVENTS_OTHER_VERSION
from payments import gateway
from payments.models import StripeEvent
from payments.services.events import event_process
from payments.webhooks.versions import foreign_version_report, foreign_versions
from shop.models import Order
from tests.factories import PaymentFactory, payment_intent_snapshot
from tests.payments.webhook_helpers import event, post_event

pytestmark = pytest.mark.django_db

PLATFORM = reverse("payments:webhook_platform")
OLD = "2024-06-20"


@pytest.fixture
def secrets(settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_platform_test"
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_connect_test"
    return settings


def counted(version: str, endpoint: str = "platform") -> float:
    return WEBHOOK_EVENTS_OTHER_VERSION.labels(endpoint, version)._value.get()


def test_an_event_in_an_older_version_is_processed_but_logged_counted_and_reported(
    client, secrets, caplog
):
    payment = PaymentFactory(status="authorized", order__status="authorized")
    old = event("payment_intent.canceled", payment_intent_snapshot(payment, "canceled"))
    old["api_version"] = OLD
    before = counted(OLD)

    with caplog.at_level(logging.WARNING, logger="payments.webhooks.versions"):
        response = post_event(client, PLATFORM, old, "whsec_platform_test")

    assert response.status_code == 200
    stored = StripeEvent.objects.get(stripe_id=old["id"])
    assert event_process(event_id=stored.pk) == StripeEvent.Status.PROCESSED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.CANCELED
    assert counted(OLD) == before + 1
    [warning] = [r for r in caplog.records if r.name == "payments.webhooks.versions"]
    assert OLD in warning.getMessage()
    assert "stripe_setup" in warning.getMessage()
    assert foreign_versions() == [("platform", OLD, 1)]
    [line] = foreign_version_report()
    assert f"API version {OLD} from the platform endpoint" in line
    assert line.endswith("run stripe_setup")


def test_a_duplicate_delivery_is_counted_once(client, secrets):
    old = event("charge.refunded", {"id": "ch_1", "object": "charge"})
    old["api_version"] = OLD
    before = counted(OLD)
    post_event(client, PLATFORM, old, "whsec_platform_test")
    post_event(client, PLATFORM, old, "whsec_platform_test")
    assert counted(OLD) == before + 1


def test_events_in_the_pinned_version_are_not_reported(client, secrets, caplog):
    pinned = event("charge.refunded", {"id": "ch_2", "object": "charge"})
    assert pinned["api_version"] == gateway.PINNED_API_VERSION
    with caplog.at_level(logging.WARNING, logger="payments.webhooks.versions"):
        post_event(client, PLATFORM, pinned, "whsec_platform_test")
    assert not [r for r in caplog.records if r.name == "payments.webhooks.versions"]
    assert foreign_versions() == []
    assert foreign_version_report() == []


def test_only_the_latest_events_are_looked_at(client, secrets):
    old = event("charge.refunded", {"id": "ch_3", "object": "charge"})
    old["api_version"] = OLD
    post_event(client, PLATFORM, old, "whsec_platform_test")
    for n in range(2):
        post_event(
            client, PLATFORM, event("charge.refunded", {"id": f"ch_{n}"}), "whsec_platform_test"
        )
    assert foreign_versions(recent=2) == []
    assert foreign_versions(recent=3) == [("platform", OLD, 1)]
