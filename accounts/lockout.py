"""django-axes glue: which account a login attempt names, and the locked-out answer."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

LOCKED_OUT_MESSAGE = (
    "Too many failed sign-in attempts from your network. Please try again in {minutes} minutes."
)


def username_of(request: HttpRequest, credentials: dict | None) -> str | None:
    """The email a login attempt used: `username` on the web and admin forms (our User's
    USERNAME_FIELD is the email), `email` in the API's token request."""
    for source in (credentials or {}, request.POST):
        value = source.get("email") or source.get("username")
        if value:
            return str(value).strip().lower()
    return None


def _minutes() -> int:
    return max(1, round(float(settings.AXES_COOLOFF_TIME) * 60))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """429, in the API's error format under /api/, else the locked-out page."""
    message = LOCKED_OUT_MESSAGE.format(minutes=_minutes())
    if request.path.startswith("/api/"):
        body = {"error": {"code": "locked_out", "message": message, "fields": {}}}
        response = JsonResponse(body, status=429)
        response["Retry-After"] = str(_minutes() * 60)
        return response
    return render(request, "accounts/locked_out.html", {"message": message}, status=429)
