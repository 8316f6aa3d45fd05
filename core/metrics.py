"""The shop's Prometheus counters, incremented where things happen (web and worker).

Defined here, in core, so that payments can count without importing the ops app;
ops/metrics.py serves them at /metrics with the backlog gauges.
"""

from prometheus_client import Counter, Histogram

WEBHOOK_EVENTS = Counter(
    "shop_webhook_events_total",
    "Stripe webhook events by type and outcome (received, duplicate, processed, failed, ignored)",
    ["type", "outcome"],
)
STRIPE_CALLS = Counter(
    "shop_stripe_calls_total",
    "Calls to Stripe by operation and outcome (ok, declined, rejected, unavailable, rate_limited)",
    ["operation", "outcome"],
)
STRIPE_LATENCY = Histogram(
    "shop_stripe_call_seconds",
    "Time of a call to Stripe, retries included, by operation",
    ["operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
MONEY_OPERATIONS = Counter(
    "shop_money_operations_total",
    "Captures, refunds and debits sent to Stripe, by outcome (succeeded or sent, failed)",
    ["operation", "outcome"],
)
OUTBOX_DISPATCHED = Counter(
    "shop_outbox_dispatched_total",
    "Overdue work handed to a worker again by the dispatcher (core/outbox.py), by kind",
    ["kind"],
)
OUTBOX_ENQUEUE_FAILED = Counter(
    "shop_outbox_enqueue_failed_total",
    "Celery messages the broker refused; the dispatcher publishes them again, by task",
    ["task"],
)
WEBHOOK_EVENTS_OTHER_VERSION = Counter(
    "shop_webhook_events_other_api_version_total",
    "Webhook events rendered in another Stripe API version than the handlers are written "
    "for (an endpoint made by hand; run stripe_setup), by endpoint and version",
    ["endpoint", "api_version"],
)
