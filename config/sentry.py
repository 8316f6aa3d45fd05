"""Error tracking: SENTRY_DSN turns on sentry-sdk for Django and Celery; unset, off.

Nothing personal leaves for Sentry: no default PII (user emails, IP addresses,
cookies), email addresses masked in messages and breadcrumbs, and the Authorization,
Cookie and Stripe-Signature headers dropped. Card data never reaches this server.
"""

import re
from typing import Any

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
SECRET_HEADERS = {"authorization", "cookie", "stripe-signature", "x-csrftoken"}


def _mask(text: Any) -> Any:
    return EMAIL.sub("[email]", text) if isinstance(text, str) else text


def scrub_breadcrumb(crumb: Any, hint: dict) -> Any:
    crumb["message"] = _mask(crumb.get("message"))
    data = crumb.get("data") or {}
    crumb["data"] = {key: _mask(value) for key, value in data.items()}
    return crumb


def scrub_event(event: Any, hint: dict) -> Any:
    if "message" in event:
        event["message"] = _mask(event["message"])
    logentry = event.get("logentry") or {}
    for key in ("message", "formatted"):
        if key in logentry:
            logentry[key] = _mask(logentry[key])
    for crumb in (event.get("breadcrumbs") or {}).get("values", []):
        scrub_breadcrumb(crumb, {})
    request = event.get("request") or {}
    headers = request.get("headers") or {}
    request["headers"] = {k: v for k, v in headers.items() if k.lower() not in SECRET_HEADERS}
    request.pop("cookies", None)
    request.pop("data", None)  # form bodies: passwords, addresses
    for exception in (event.get("exception") or {}).get("values", []):
        exception["value"] = _mask(exception.get("value"))
    return event


def sentry_init(*, dsn: str, environment: str, release: str, **options: Any) -> None:
    """Start sentry-sdk with the Django and Celery integrations and the scrubbers above."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # No user identity, no request bodies, no frame variables (they hold buyers'
        # emails and addresses); the hooks below mask what is left.
        data_collection={"user_info": False, "http_bodies": [], "stack_frame_variables": False},
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        traces_sample_rate=0.0,
        **options,
    )
