"""The shop's URLs plus `/_bench/bare/`: a view that does nothing, the ceiling.

The bare view goes through the same gunicorn workers, WSGI handler and middleware
as the webhook endpoint, so "webhook events/s ÷ bare requests/s" is what the
webhook's own work costs. It exists only when BENCH_ROUTES=1 (bench.settings).
"""

import os

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as shop_urlpatterns


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = list(shop_urlpatterns)
if os.environ.get("BENCH_ROUTES") == "1":
    urlpatterns.insert(0, path("_bench/bare/", bare, name="bench_bare"))
