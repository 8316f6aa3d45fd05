"""Who may call what: by role (buyer or contractor); ownership is in the selectors."""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import UserProfile


def _role(request: Request) -> str | None:
    profile = getattr(request.user, "profile", None) if request.user.is_authenticated else None
    return profile.role if profile is not None else None


class IsBuyer(BasePermission):
    """Logged in with a buyer account (checkout, own orders)."""

    message = "Only buyer accounts can do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return _role(request) == UserProfile.Role.BUYER


class IsContractor(BasePermission):
    """Logged in with a contractor account (own sales, balance, onboarding)."""

    message = "Only contractor accounts can do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return _role(request) == UserProfile.Role.CONTRACTOR


class CanRefund(BasePermission):
    """Staff allowed to refund, as in admin: the `payments.add_refund` permission."""

    message = "You are not allowed to refund payments."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user.is_authenticated and request.user.has_perm("payments.add_refund"))
