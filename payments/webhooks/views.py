"""Webhook endpoints: verify the signature, store the event, answer 2xx, process later."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.metrics import WEBHOOK_EVENTS
from payments import gateway
from payments.models import StripeEvent
from payments.services.events import event_store

from .versions import event_version_check

# The two answers to a stored event, encoded once: this view runs for every webhook.
_STORED = {  # by "created"
    True: b'{"received": true, "duplicate": false}',
    False: b'{"received": true, "duplicate": true}',
}


def _receive(request: HttpRequest, *, endpoint: str, secret: str) -> HttpResponse:
    try:
        event = gateway.webhook_event_construct(
            payload=request.body,
            # META, not request.headers: that builds a dict of every header, per request.
            signature=request.META.get("HTTP_STRIPE_SIGNATURE", ""),
            secret=secret,
        )
    except gateway.WebhookSignatureInvalid:
        return JsonResponse({"error": "Invalid or missing Stripe signature."}, status=400)
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        return JsonResponse({"error": "Not a Stripe event."}, status=400)
    # Stored as received (the signature check above read it as UTF-8). event_store
    # commits before returning: a 2xx means the event is durably stored.
    _, created = event_store(event=event, endpoint=endpoint, body=request.body.decode())
    WEBHOOK_EVENTS.labels(event["type"], "received" if created else "duplicate").inc()
    if created:
        event_version_check(event, endpoint)  # processed all the same, but said
    return HttpResponse(_STORED[created], content_type="application/json")


@csrf_exempt
@require_POST
def platform_webhook(request: HttpRequest) -> HttpResponse:
    return _receive(
        request, endpoint=StripeEvent.Endpoint.PLATFORM, secret=settings.STRIPE_WEBHOOK_SECRET
    )


@csrf_exempt
@require_POST
def connect_webhook(request: HttpRequest) -> HttpResponse:
    return _receive(
        request,
        endpoint=StripeEvent.Endpoint.CONNECT,
        secret=settings.STRIPE_CONNECT_WEBHOOK_SECRET,
    )
