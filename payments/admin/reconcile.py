"""The reconciliation page in admin, with a CSV export."""

from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from payments import gateway
from payments.services.reconcile import mismatches_csv, reconcile


def reconcile_view(request):
    """Run reconciliation for the last `days` days (default 30) and show or export it."""
    if not request.user.has_perm("payments.view_payment"):
        raise PermissionDenied
    try:
        days = max(1, min(int(request.GET.get("days", 30)), 366))
    except ValueError:
        days = 30
    error = ""
    try:
        mismatches = reconcile(since=timezone.now() - timedelta(days=days))
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
