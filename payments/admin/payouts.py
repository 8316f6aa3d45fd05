"""Contractors' "Pay out now" requests and payout schedules: read-only, except that
staff may send a request the dispatcher gave up on again."""

from django.contrib import admin

from core.admin import money_column
from payments.models import PayoutRequest, PayoutSchedule

from .payments import ReadOnlyAdmin
from .retry import retry_selected


@admin.register(PayoutRequest)
class PayoutRequestAdmin(ReadOnlyAdmin):
    list_display = ("contractor", "total", "status", "stripe_payout_id", "created_at")
    list_filter = ("status", "currency")
    search_fields = ("stripe_payout_id", "account", "contractor__email")
    list_select_related = ("contractor",)
    total = money_column("amount", "Amount")
    actions = ["retry_action"]

    def has_retry_permission(self, request):
        return request.user.has_perm("payments.change_payoutrequest")

    @admin.action(description="Send the selected payout requests again now", permissions=["retry"])
    def retry_action(self, request, queryset):
        retry_selected(self, request, queryset, "payout requests")


@admin.register(PayoutSchedule)
class PayoutScheduleAdmin(ReadOnlyAdmin):
    list_display = ("account", "contractor", "interval", "delay_days", "fetched_at")
    list_filter = ("interval",)
    search_fields = ("account", "contractor__email")
    list_select_related = ("contractor",)
