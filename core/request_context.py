"""One id per request, carried into its log lines and the Celery tasks it enqueues.

A payment is followed across processes by this id: the web request that started it
logs it, the task enqueued from that request logs it again (it travels in the task
message's headers), and so do the Stripe calls made on its behalf.
"""

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# An id from the client or the proxy is kept only if it looks like one (no log injection).
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("shop.access")
WEBHOOK_PREFIX = "/payments/webhooks/"


def current_request_id() -> str:
    return request_id_var.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record (empty outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RequestIdMiddleware:
    """Take the proxy's X-Request-ID or make one, answer with it, and log one line per
    request: method, path, status, duration."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.log_webhooks = settings.ACCESS_LOG_WEBHOOKS

    def _logged(self, request: HttpRequest, response: HttpResponse) -> bool:
        # A delivered webhook is already a row with its arrival time (StripeEvent), and
        # its log line cost 15-20 % of the ingest rate (bench/README.md): only failed
        # deliveries are logged, unless ACCESS_LOG_WEBHOOKS says otherwise.
        return (
            self.log_webhooks
            or response.status_code >= 300
            or not request.path.startswith(WEBHOOK_PREFIX)
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if _ACCEPTABLE_ID.match(given) else new_request_id()
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            if access_log.isEnabledFor(logging.INFO) and self._logged(request, response):
                access_log.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "user_id": getattr(getattr(request, "user", None), "pk", None),
                    },
                )
            return response
        finally:
            request_id_var.reset(token)
