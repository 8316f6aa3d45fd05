"""Contractor debits in admin: staff create them; a Celery task performs them."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from core.admin import money_column, stripe_link
from payments.models import ContractorDebit
from payments.services.debits import debit_create

from .forms import DebitForm
from .retry import retry_selected


@admin.register(ContractorDebit)
class ContractorDebitAdmin(admin.ModelAdmin):
    list_display = ("contractor", "total", "method", "status", "reason", "created_by", "created_at")
    list_filter = ("status", "method")
    search_fields = ("contractor__email", "stripe_object_id", "reason")
    list_select_related = ("contractor", "created_by")
    readonly_fields = ("stripe_link_cell",)
    total = money_column("amount", "Amount")

    @admin.display(description="In Stripe")
    def stripe_link_cell(self, obj):
        return stripe_link(obj.stripe_object_id)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields] + ["stripe_link_cell"]

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    actions = ["retry_action"]

    def has_retry_permission(self, request):
        return request.user.has_perm("payments.add_contractordebit")

    @admin.action(description="Send the selected pending debits again now", permissions=["retry"])
    def retry_action(self, request, queryset):
        retry_selected(self, request, queryset, "debits")

    def add_view(self, request, form_url="", extra_context=None):
        """Our own form: validated by the debit service, created by it, run by a task.

        It replaces Django's add_view, so it must check what that one checks, before
        the form lists contractors and orders and before a POST reaches the service:
        `payments.add_contractordebit`.
        """
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {"contractor": request.GET.get("contractor"), "order": request.GET.get("order")}
        form = DebitForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            debit = debit_create(
                contractor_id=data["contractor"].pk,
                order_id=data["order"].pk if data["order"] else None,
                amount=data["amount"],
                currency=data["currency"],
                reason=data["reason"],
                created_by_id=request.user.pk,
            )
            self.message_user(request, f"Debit of {debit} sent to Stripe.", messages.SUCCESS)
            if self.has_view_or_change_permission(request):
                return redirect("admin:payments_contractordebit_changelist")
            return redirect("admin:index")
        context = {
            **self.admin_site.each_context(request),
            "title": "Debit a contractor",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/payments/debit_form.html", context)
