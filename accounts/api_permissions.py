"""The API's side of "prove your address first": a permission for DRF views."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .selectors import email_verified


class EmailVerified(BasePermission):
    """Writes need a proven email address (the checkout and onboarding endpoints, as
    their web pages: see accounts.decorators); reads do not, so a view that lists and
    creates (GET and POST /api/orders/) can use it as it is."""

    message = (
        "Confirm your email address first: open the link we emailed you, or ask for a new "
        "one on your account page."
    )

    def has_permission(self, request: Any, view: Any) -> bool:
        return request.method in SAFE_METHODS or email_verified(request.user)
