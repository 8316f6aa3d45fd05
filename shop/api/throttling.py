"""Rate limits: write endpoints by the view's `throttle_scope`; reads that may call
Stripe by the view's `stripe_read_scope`."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle


class _CurrentRateMixin:
    """DRF's scoped throttle copies DEFAULT_THROTTLE_RATES once at import; reading
    `api_settings` each time lets settings (and tests) change a rate at run time."""

    scope: str | None

    def get_rate(self) -> str | None:
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES or {}
        scope = self.scope or ""
        if scope not in rates:
            raise ImproperlyConfigured(
                f"No rate in REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'] for scope '{scope}'."
            )
        return rates[scope]


class WriteRateThrottle(_CurrentRateMixin, ScopedRateThrottle):
    """ScopedRateThrottle for unsafe methods only."""

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class StripeReadThrottle(_CurrentRateMixin, ScopedRateThrottle):
    """Reads that may ask Stripe (an order awaiting payment re-reads its intent), GET
    included, per user: the view names the scope in `stripe_read_scope`."""

    scope_attr = "stripe_read_scope"
