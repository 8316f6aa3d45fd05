"""One request id per request: answered, logged, carried into the tasks it enqueues."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.request_context import RequestIdFilter, request_id_var

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_every_response_carries_a_new_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert len(first) == 32
    assert first != second


def test_a_proxys_request_id_is_kept_and_a_forged_one_replaced(client):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234abcd-ef")["X-Request-ID"]
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="x\nFAKE LOG LINE")["X-Request-ID"]

    assert kept == "lb-1234abcd-ef"
    assert "\n" not in replaced
    assert len(replaced) == 32


def test_one_access_log_line_per_request_with_its_id(client, caplog):
    caplog.handler.addFilter(RequestIdFilter())  # as the console handler has it
    with caplog.at_level(logging.INFO, logger="shop.access"):
        response = client.get("/healthz")

    (record,) = [r for r in caplog.records if r.name == "shop.access"]
    assert (record.method, record.path, record.status) == ("GET", "/healthz", 200)
    assert record.duration_ms >= 0
    assert record.request_id == response["X-Request-ID"]


def test_log_format_json_writes_one_json_object_per_line():
    code = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "Client().get('/healthz', HTTP_X_REQUEST_ID='trace-abcdef12')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_FORMAT": "json"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "shop.access"]
    assert access == [
        {
            "time": access[0]["time"],
            "level": "INFO",
            "logger": "shop.access",
            "message": "GET /healthz 200",
            "request_id": "trace-abcdef12",
            "method": "GET",
            "path": "/healthz",
            "status": 200,
            "duration_ms": access[0]["duration_ms"],
            "user_id": None,
        }
    ]


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)  # the worker's thread reads the database too
def test_a_task_enqueued_by_a_request_logs_that_requests_id(celery_worker_thread):
    from notifications.tasks import notification_email_task

    seen: list[str] = []

    class Remember(logging.Handler):
        def emit(self, record):
            seen.append(getattr(record, "request_id", ""))

    handler = Remember()
    handler.addFilter(RequestIdFilter())
    trace = logging.getLogger("celery.app.trace")
    trace.addHandler(handler)
    previous_level = trace.level
    trace.setLevel(logging.INFO)
    token = request_id_var.set("req-trace-123456")
    try:
        # A notification that does not exist: the task fails fast, and logs that it did.
        result = notification_email_task.delay(0)
    finally:
        request_id_var.reset(token)
    del result  # no result backend: the log line is what is waited for
    import time

    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    trace.removeHandler(handler)
    trace.setLevel(previous_level)
    assert "req-trace-123456" in seen


def test_delivered_webhooks_are_rows_not_access_lines_unless_asked(client, caplog, settings):
    def lines_for(path):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="shop.access"):
            client.post(path, data=b"{}", content_type="application/json")
        return [r for r in caplog.records if r.name == "shop.access"]

    # An unsigned delivery is refused (400): that one is logged.
    assert len(lines_for("/payments/webhooks/stripe/")) == 1

    from core.request_context import RequestIdMiddleware

    middleware = RequestIdMiddleware(lambda request: None)
    ok = type("Response", (), {"status_code": 200})()
    webhook = type("Request", (), {"path": "/payments/webhooks/stripe/"})()
    assert not middleware._logged(webhook, ok)
    settings.ACCESS_LOG_WEBHOOKS = True
    assert RequestIdMiddleware(lambda request: None)._logged(webhook, ok)


@pytest.mark.sandbox
def test_a_stripe_call_logs_stripes_request_id_beside_ours(live_stack, caplog):
    from payments import gateway

    caplog.handler.addFilter(RequestIdFilter())
    token = request_id_var.set("req-ours-12345678")
    try:
        with caplog.at_level(logging.INFO, logger="payments.gateway"):
            customer = gateway.customer_create(
                email="trace@example.com", name="Trace", user_id=1, idempotency_key="trace-c-1"
            )
    finally:
        request_id_var.reset(token)

    (line,) = [r for r in caplog.records if r.name == "payments.gateway"]
    assert line.request_id == "req-ours-12345678"
    assert f"Stripe customer {customer['id']} (request req_" in line.getMessage()
