"""Transfers to contractors from checkouts' platform charges, and their reversals:
read-only facts, with "send again now" for work still to do, a transfer Stripe
refused included (once its cause, e.g. the account's capability, is fixed)."""

from django.contrib import admin
from django.db import transaction

from core.admin import money_column, stripe_link
from core.statemachine import transition
from payments.models import Transfer, TransferReversal

from .payments import ReadOnlyAdmin
from .retry import retry_selected


def can_send(request) -> bool:
    return request.user.has_perm("payments.change_payment")


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "payment", "status", "total", "destination_account", "created_at")
    list_filter = ("status", "currency", "created_at")
    search_fields = (
        "stripe_transfer_id",
        "transfer_group",
        "destination_account",
        "payment__order__public_id",
    )
    list_select_related = ("payment",)
    readonly_fields = ("transfer_link",)
    actions = ["retry_action"]
    total = money_column("amount", "Amount")

    @admin.display(description="In Stripe")
    def transfer_link(self, obj):
        return stripe_link(obj.stripe_transfer_id)

    def has_retry_permission(self, request):
        return can_send(request)

    @admin.action(
        description="Send the selected transfers now (refused ones again)", permissions=["retry"]
    )
    def retry_action(self, request, queryset):
        with transaction.atomic():
            for pk in queryset.filter(status=Transfer.Status.FAILED).values_list("pk", flat=True):
                transition(Transfer, pk, Transfer.Status.PENDING, changes={"failure_message": ""})
            retry_selected(self, request, queryset, "transfers")


@admin.register(TransferReversal)
class TransferReversalAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "transfer", "refund", "status", "total", "created_at")
    list_filter = ("status", "currency", "created_at")
    search_fields = ("stripe_reversal_id", "transfer__stripe_transfer_id")
    list_select_related = ("transfer", "refund")
    actions = ["retry_action"]
    total = money_column("amount", "Amount")

    def has_retry_permission(self, request):
        return can_send(request)

    @admin.action(description="Send the selected pending reversals now", permissions=["retry"])
    def retry_action(self, request, queryset):
        retry_selected(self, request, queryset, "transfer reversals")
