"""The server-error page: a database that is briefly gone is a 503 asking to retry,
not a 500 (the outbox finishes what was already committed; nothing else happened)."""

import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import server_error as django_server_error

# Seconds a client may wait before retrying (a database restart takes about that long).
RETRY_AFTER_SECONDS = 15
UNAVAILABLE_MESSAGE = (
    "The shop is briefly unavailable. Nothing was lost: please try again in a moment."
)


def _database_unavailable() -> bool:
    exc = sys.exc_info()[1]
    while exc is not None:
        if isinstance(exc, OperationalError | InterfaceError) or (
            isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request, *args, **kwargs):
    """handler500: Django calls it while handling the exception, so it can be read."""
    if not _database_unavailable():
        return django_server_error(request, *args, **kwargs)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"error": {"code": "unavailable", "message": UNAVAILABLE_MESSAGE, "fields": {}}},
            status=503,
        )
    else:
        # A page of its own: base.html reads the user and notifications from the database.
        response = HttpResponse(
            render_to_string("503.html", {"message": UNAVAILABLE_MESSAGE}), status=503
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
