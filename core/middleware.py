"""Refuse a request body larger than MAX_REQUEST_BYTES before anything reads it."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string


class RequestSizeLimitMiddleware:
    """413 for a body whose Content-Length is over the limit.

    Django reads a multipart body in full (to temporary files) before a form can check a
    file's size, so a 40 MB upload cost the server 40 MB of disk and time before the
    10 MB error. Checked on the declared length, nothing is read. A body without a
    Content-Length is empty to Django (WSGI), so there is nothing to bypass.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            return self.too_large(request)
        return self.get_response(request)

    @staticmethod
    def too_large(request: HttpRequest) -> HttpResponse:
        limit_mb = settings.MAX_REQUEST_BYTES // (1024 * 1024)
        message = f"This upload is too large: at most {limit_mb} MB can be sent at once."
        if request.path.startswith(("/api/", "/payments/webhooks/")):
            body = {"error": {"code": "request_too_large", "message": message, "fields": {}}}
            return JsonResponse(body, status=413)
        html = render_to_string("413.html", {"message": message}, request=request)
        return HttpResponse(html, status=413)
