"""The Content-Security-Policy, with Stripe.js's origins read from the current settings.

Real Stripe needs js.stripe.com for the script and its iframes, hooks.stripe.com for
3-D Secure, and api.stripe.com for its calls (Stripe's CSP guidance); the "Continue
onboarding" form redirects to connect.stripe.com, and browsers hold a form's redirect
to form-action too. The offline sandbox serves all of them from STRIPE_API_BASE.
Read per request rather than once in settings.py: tests point STRIPE_JS_URL at a
sandbox on a port chosen at run time.
"""

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings

REAL_STRIPE = {
    "script-src": ["https://js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
    "img-src": ["https://*.stripe.com"],
    "form-action": ["https://connect.stripe.com"],
}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def stripe_sources() -> dict[str, list[str]]:
    """Directive → the Stripe origins it must allow under the current settings."""
    origins = {_origin(settings.STRIPE_JS_URL), _origin(settings.STRIPE_API_BASE)} - {""}
    if not settings.STRIPE_API_BASE:
        return REAL_STRIPE
    ordered = sorted(origins)
    return dict.fromkeys(
        ("script-src", "frame-src", "connect-src", "img-src", "form-action"), ordered
    )


# JSON for machines (Stripe's webhooks, probes, the metrics scraper): no page for a
# policy to protect, and building one twice per response was a tenth of a webhook's
# CPU time in the web process (bench/README.md).
MACHINE_PREFIXES = ("/payments/webhooks/", "/healthz", "/readyz", "/metrics")


class StripeCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with Stripe's origins merged into every policy."""

    def process_response(self, request, response):
        if request.path_info.startswith(MACHINE_PREFIXES):
            return response
        return super().process_response(request, response)

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only:
            update = {key: list(value) for key, value in (parts.update or {}).items()}
            for directive, sources in stripe_sources().items():
                update[directive] = [*update.get(directive, []), *sources]
            parts.update = update
        return parts
