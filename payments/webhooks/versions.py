"""Webhook events rendered in another Stripe API version than the handlers read.

Stripe renders an event's `data.object` in the API version of the endpoint that
delivers it, and says which in the event's `api_version`. stripe_setup makes our
endpoints in the pinned version, but one made by hand in the dashboard keeps the
version chosen there: its events are older-shaped (fields renamed or missing), and
the handlers would read them without complaint. Such events are still processed
(refusing them would lose real payments), but each is logged and counted, and
`foreign_versions` tells the health report which endpoint sends them.
"""

from __future__ import annotations

import logging
from collections import Counter

from django.conf import settings

from core.metrics import WEBHOOK_EVENTS_OTHER_VERSION
from payments.gateway import PINNED_API_VERSION
from payments.models import StripeEvent

logger = logging.getLogger(__name__)

# How many of the latest stored events the health report looks at: enough to see an
# endpoint's traffic, few enough to stay one cheap query on the primary key.
RECENT_EVENTS = 1000


def expected_versions() -> frozenset[str]:
    """The pinned version, and STRIPE_API_VERSION when it is a deliberate newer one."""
    return frozenset({PINNED_API_VERSION, settings.STRIPE_API_VERSION})


def other_version(event: dict) -> str | None:
    """The event's API version when the handlers were not written for it, else None."""
    version = event.get("api_version")
    if isinstance(version, str) and version not in expected_versions():
        return version
    return None


def event_version_check(event: dict, endpoint: str) -> None:
    """Log and count a just-stored event rendered in another API version."""
    version = other_version(event)
    if version is None:
        return
    logger.warning(
        "Stripe event %s (%s) from the %s endpoint is in API version %s, not %s: its "
        "payload may not have the shape the handlers read. Run stripe_setup.",
        event.get("id"),
        event.get("type"),
        endpoint,
        version,
        PINNED_API_VERSION,
    )
    WEBHOOK_EVENTS_OTHER_VERSION.labels(endpoint, version).inc()


def foreign_versions(recent: int = RECENT_EVENTS) -> list[tuple[str, str, int]]:
    """(endpoint, API version, count) of the other versions among the `recent` latest
    stored events, most frequent first."""
    oldest = (
        StripeEvent.objects.order_by("-pk")
        .values_list("pk", flat=True)[recent - 1 : recent]
        .first()
    )
    rows = StripeEvent.objects.filter(pk__gte=oldest or 0).values_list(
        "endpoint", "payload__api_version"
    )
    expected = expected_versions()
    counts = Counter(
        (endpoint, version)
        for endpoint, version in rows
        if isinstance(version, str) and version not in expected
    )
    return [(endpoint, version, n) for (endpoint, version), n in counts.most_common()]


def foreign_version_report(recent: int = RECENT_EVENTS) -> list[str]:
    """One line per endpoint and version, in the words the health report prints."""
    return [
        f"{n} events in API version {version} from the {endpoint} endpoint (of the last "
        f"{recent} received; the handlers read {PINNED_API_VERSION}); run stripe_setup"
        for endpoint, version, n in foreign_versions(recent)
    ]
