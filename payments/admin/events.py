"""Webhook events in admin: read-only, filterable, and replayable."""

import json
from functools import partial

from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html

from core.admin import stripe_link
from payments.models import StripeEvent
from payments.tasks import event_process_task

from .payments import ReadOnlyAdmin


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = (
        "stripe_id",
        "type",
        "endpoint",
        "account",
        "status",
        "attempts",
        "received_at",
        "processed_at",
    )
    list_filter = ("status", "endpoint", "type", "account")
    search_fields = ("stripe_id", "account", "type")
    readonly_fields = ("event_link", "pretty_payload")
    exclude = ("payload",)
    actions = ["replay_action"]
    date_hierarchy = "received_at"

    @admin.display(description="In Stripe")
    def event_link(self, obj):
        return stripe_link(obj.stripe_id)

    @admin.display(description="Payload")
    def pretty_payload(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    def get_readonly_fields(self, request, obj=None):
        return [f for f in super().get_readonly_fields(request, obj) if f != "payload"]

    def has_change_permission(self, request, obj=None):
        # The change page is a read-only view; nothing can be saved.
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    def has_replay_permission(self, request):
        return request.user.has_perm("payments.change_stripeevent")

    @admin.action(description="Replay the selected events (idempotent)", permissions=["replay"])
    def replay_action(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        for event_id in ids:
            transaction.on_commit(partial(event_process_task.delay, event_id, True))
        self.message_user(request, f"{len(ids)} event(s) queued for replay.", messages.SUCCESS)
