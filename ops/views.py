"""Probes for load balancers and orchestrators: JSON, unauthenticated, cheap."""

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .readiness import readiness

_ALIVE = {"status": "ok"}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. No I/O, so a slow database never gets a healthy
    web process restarted."""
    return JsonResponse(_ALIVE)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database, broker and cache answer and migrations are
    applied, else 503; Stripe's reachability is reported but never fails it."""
    ready, checks = readiness()
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition, for a scraper holding METRICS_TOKEN (404 while unset:
    the counters say how much money moves, which is nobody else's business)."""
    from prometheus_client import CONTENT_TYPE_LATEST

    from .metrics import exposition

    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off (METRICS_TOKEN is not set).")
    given = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return JsonResponse({"error": "A valid metrics token is required."}, status=401)
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
