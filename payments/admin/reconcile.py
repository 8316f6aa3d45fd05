"""The reconciliation page in admin, with a CSV export."""

from datetime import timedelta

from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from payments import gateway
from payments.services.reconcile import mismatches_csv, reconcile

# Reconciliation shows our payments, refunds and debits next to Stripe's, on the page
# and in the CSV: whoever runs it must be allowed to view all three. A custom
# permission would need a migration and say no more than these do.
RECONCILE_PERMISSIONS = (
    "payments.view_payment",
    "payments.view_refund",
    "payments.view_contractordebit",
)


def can_reconcile(user) -> bool:
    return user.is_active and user.is_staff and user.has_perms(RECONCILE_PERMISSIONS)


# A run reads every payment of the period from Stripe: page loads and the CSV export
# within this many seconds reuse the last run instead of spending Stripe's rate limit.
RECONCILE_REUSE_SECONDS = 60


def _recent_reconcile(days: int) -> list:
    found = cache.get_or_set(
        f"reconcile:{days}",
        lambda: reconcile(since=timezone.now() - timedelta(days=days)),
        RECONCILE_REUSE_SECONDS,
    )
    return list(found or [])


def reconcile_view(request):
    """Run reconciliation for the last `days` days (default 30) and show or export it.

    Mounted through `admin.site.admin_view` (config/urls.py); the check below holds
    for the page and the CSV alike, before anything is read from Stripe.
    """
    if not can_reconcile(request.user):
        raise PermissionDenied
    try:
        days = max(1, min(int(request.GET.get("days", 30)), 366))
    except ValueError:
        days = 30
    error = ""
    try:
        mismatches = _recent_reconcile(days)
    except gateway.GatewayUnavailable:
        mismatches, error = [], gateway.GatewayUnavailable.user_message
    if request.GET.get("format") == "csv" and not error:
        response = HttpResponse(mismatches_csv(mismatches), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="reconciliation.csv"'
        return response
    context = {
        **admin.site.each_context(request),
        "title": "Reconciliation with Stripe",
        "mismatches": mismatches,
        "days": days,
        "error": error,
    }
    return TemplateResponse(request, "admin/payments/reconcile.html", context)
