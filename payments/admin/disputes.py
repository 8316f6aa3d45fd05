"""Disputes in admin: the list, and a page to answer one before its deadline.

The page shows the dispute and the order's facts pre-filled as evidence; staff edit
them, attach files (uploaded at once through the Files API), then "save draft",
"submit" or "accept". Each of those is a DisputeAction row a task sends to Stripe
(payments/services/dispute_actions.py), so nothing is lost when Stripe or the broker
is down. Reading needs `payments.view_dispute`; answering `payments.change_dispute`,
checked on the POST itself.
"""

import io

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from core.admin import money_column, stripe_link
from payments.models import Dispute, DisputeAction
from payments.services.dispute_actions import (
    FILE_FIELDS,
    TEXT_FIELDS,
    DisputeError,
    dispute_accept,
    dispute_answer,
    evidence_file_attach,
    evidence_prefill,
)
from payments.services.dispute_receipt import receipt_png

from .retry import retry_selected

LONG_FIELDS = {"product_description", "uncategorized_text", "shipping_address", "billing_address"}
BUTTONS = {"save_draft": "Evidence draft saved", "submit": "Evidence submitted", "accept": ""}


class EvidenceForm(forms.Form):
    """Stripe's evidence fields, as text; file fields hold an uploaded file's id."""

    attach_to = forms.ChoiceField(
        choices=[(f, f.replace("_", " ")) for f in FILE_FIELDS],
        required=False,
        label="Attach the file as",
    )
    attachment = forms.FileField(required=False, help_text="PDF, PNG or JPEG, at most 5 MB.")
    attach_receipt = forms.BooleanField(
        required=False,
        label="Attach the order's receipt",
        help_text="Drawn from the orders the charge paid, as a PNG, when there is no receipt yet.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in TEXT_FIELDS:
            widget = forms.Textarea(attrs={"rows": 3}) if name in LONG_FIELDS else None
            self.fields[name] = forms.CharField(
                required=False, widget=widget, label=name.replace("_", " ").capitalize()
            )
        for name in FILE_FIELDS:
            self.fields[name] = forms.CharField(
                required=False,
                label=f"{name.replace('_', ' ').capitalize()} (file id)",
                widget=forms.TextInput(attrs={"readonly": "readonly"}),
            )

    def evidence(self) -> dict:
        return {k: self.cleaned_data.get(k, "") for k in (*TEXT_FIELDS, *FILE_FIELDS)}


class DisputeActionInline(admin.TabularInline):
    model = DisputeAction
    extra = 0
    can_delete = False
    fields = ("kind", "status", "amount", "stripe_object_id", "failure_message", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = (
        "stripe_dispute_id",
        "order",
        "total",
        "reason",
        "status",
        "due_by",
        "funds_withdrawn",
        "funds_reinstated",
    )
    list_filter = ("status", "reason")
    search_fields = ("stripe_dispute_id", "stripe_charge_id", "order__public_id")
    list_select_related = ("order",)
    total = money_column("amount", "Amount")
    inlines = [DisputeActionInline]
    change_form_template = "admin/payments/dispute_answer.html"

    def has_add_permission(self, request):
        return False  # disputes come from Stripe

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields] + ["debits"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The answer page; a POST answers the dispute (never Django's model form)."""
        dispute = get_object_or_404(Dispute, pk=object_id)
        if not self.has_view_or_change_permission(request, dispute):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_change_permission(request, dispute):
                raise PermissionDenied
            form = EvidenceForm(request.POST, request.FILES)
            done = self._answer(request, dispute, form)
            if done:
                return redirect("admin:payments_dispute_change", dispute.pk)
        else:
            facts = evidence_prefill(dispute)
            form = EvidenceForm(initial={**facts, "attach_receipt": not facts.get("receipt")})
        return TemplateResponse(
            request, self.change_form_template, self._context(request, dispute, form)
        )

    def _answer(self, request, dispute: Dispute, form: EvidenceForm) -> bool:
        button = next((b for b in BUTTONS if b in request.POST), None)
        if not form.is_valid():
            return False
        if button is None:
            form.add_error(None, "Choose save draft, submit or accept.")
            return False
        try:
            evidence = form.evidence()
            upload = form.cleaned_data.get("attachment")
            if upload and button != "accept":  # accepting sends no evidence
                field = form.cleaned_data.get("attach_to") or "uncategorized_file"
                evidence[field] = evidence_file_attach(
                    dispute_id=dispute.pk, field=field, upload=upload, filename=upload.name
                )
            wants_receipt = form.cleaned_data.get("attach_receipt") and button != "accept"
            if wants_receipt and not evidence.get("receipt"):
                evidence["receipt"] = evidence_file_attach(
                    dispute_id=dispute.pk,
                    field="receipt",
                    upload=io.BytesIO(receipt_png(dispute)),
                    filename=f"receipt-{dispute.stripe_charge_id}.png",
                )
            if button == "accept":
                dispute_accept(dispute_id=dispute.pk, user_id=request.user.pk)
                self.message_user(
                    request, "Dispute accepted: on its way to Stripe.", messages.SUCCESS
                )
            else:
                dispute_answer(
                    dispute_id=dispute.pk,
                    evidence=evidence,
                    submit=button == "submit",
                    user_id=request.user.pk,
                )
                self.message_user(
                    request, f"{BUTTONS[button]}: on its way to Stripe.", messages.SUCCESS
                )
        except DisputeError as exc:
            form.add_error(None, str(exc))
            return False
        return True

    def _context(self, request, dispute: Dispute, form: EvidenceForm) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": f"Dispute {dispute.stripe_dispute_id}",
            "opts": self.model._meta,
            "original": dispute,
            "dispute": dispute,
            "form": form,
            "can_answer": dispute.is_open and self.has_change_permission(request, dispute),
            "overdue": bool(dispute.due_by and dispute.due_by < timezone.now()),
            "charge_link": stripe_link(dispute.stripe_charge_id),
            "actions_done": dispute.actions.all()[:20],
            "debits": dispute.debits.all(),
        }

    actions = ["retry_action"]

    def has_retry_permission(self, request):
        return request.user.has_perm("payments.change_dispute")

    @admin.action(
        description="Send the selected disputes' pending work again now", permissions=["retry"]
    )
    def retry_action(self, request, queryset):
        actions = DisputeAction.objects.filter(dispute__in=queryset)
        retry_selected(self, request, actions, "dispute actions")


@admin.register(DisputeAction)
class DisputeActionAdmin(admin.ModelAdmin):
    """Every answer and give-back sent to Stripe, for the record; read-only."""

    list_display = ("dispute", "kind", "status", "amount", "requested_by", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("dispute__stripe_dispute_id", "stripe_object_id")
    list_select_related = ("dispute", "requested_by")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    actions = ["retry_action"]

    def has_retry_permission(self, request):
        return request.user.has_perm("payments.change_dispute")

    @admin.action(description="Send the selected pending actions again now", permissions=["retry"])
    def retry_action(self, request, queryset):
        retry_selected(self, request, queryset, "dispute actions")
