"""Balances and payouts: read-only mirrors of Stripe; this install's identity."""

from django.contrib import admin

from core.admin import money_column
from payments.installation import Installation
from payments.models import BalanceSnapshot, Payout

from .payments import ReadOnlyAdmin


@admin.register(BalanceSnapshot)
class BalanceSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("account", "contractor", "currency", "available", "pending", "fetched_at")
    list_select_related = ("contractor",)
    search_fields = ("account", "contractor__email")
    available = money_column("available_amount", "Available")
    pending = money_column("pending_amount", "Pending")


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ("stripe_id", "contractor", "total", "status", "arrival_date")
    list_filter = ("status", "currency")
    search_fields = ("stripe_id", "account", "contractor__email")
    list_select_related = ("contractor",)
    total = money_column("amount", "Amount")


@admin.register(Installation)
class InstallationAdmin(ReadOnlyAdmin):
    """This install's id, from which the default idempotency-key prefix is derived."""

    list_display = ("install_id", "created_at")
