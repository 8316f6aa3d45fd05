"""Payments and refunds in admin: read-only facts, plus refund, capture and cancel actions.

Every action asks a service; the Stripe call itself runs in a Celery task, so a
click never waits on Stripe and a retried task is harmless.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin import money_column, stripe_link
from core.money import format_amount, to_decimal_string
from payments.models import Payment, Refund
from payments.services import intents
from payments.services.refunds import (
    RefundError,
    refund_policy,
    refund_request,
    refundable_amount,
)
from shop.models import Order

from .forms import RefundForm
from .retry import retry_selected


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money and Stripe ids are facts from Stripe: staff read them, services write them."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields] + list(self.readonly_fields)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def can_refund(request) -> bool:
    return request.user.has_perm("payments.add_refund")


def refund_url(payment: Payment) -> str:
    return reverse("admin:payments_payment_refund", args=[payment.pk])


def payment_capture_enqueue(modeladmin, request, payments) -> None:
    """Shared by the payment and order admins: capture authorised payments."""
    queued = sum(intents.payment_capture_request(payment_id=p.pk) for p in payments)
    _report(modeladmin, request, queued, "capture", len(payments))


def payment_cancel_enqueue(modeladmin, request, payments) -> None:
    """Shared by the payment and order admins: release authorisations."""
    queued = sum(intents.payment_cancel_request(payment_id=p.pk) for p in payments)
    _report(modeladmin, request, queued, "cancellation", len(payments))


def _report(modeladmin, request, queued: int, what: str, selected: int) -> None:
    if queued:
        modeladmin.message_user(request, f"{queued} {what}(s) sent to Stripe.", messages.SUCCESS)
    if queued < selected:
        modeladmin.message_user(
            request,
            f"{selected - queued} payment(s) skipped: not in a state that allows {what}.",
            messages.WARNING,
        )


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "order",
        "status",
        "total",
        "captured",
        "refunded",
        "fee",
        "created_at",
    )
    list_filter = ("status", "currency", "created_at")
    search_fields = ("stripe_payment_intent_id", "stripe_charge_id", "order__public_id")
    list_select_related = ("order",)
    readonly_fields = ("intent_link", "charge_link", "transfer_link", "refund_button")
    actions = ["refund_action", "capture_action", "cancel_action", "retry_action"]
    total = money_column("amount", "Amount")
    captured = money_column("amount_captured", "Captured")
    refunded = money_column("amount_refunded", "Refunded")
    fee = money_column("application_fee_amount", "Fee")

    @admin.display(description="PaymentIntent")
    def intent_link(self, obj):
        return stripe_link(obj.stripe_payment_intent_id)

    @admin.display(description="Charge")
    def charge_link(self, obj):
        return stripe_link(obj.stripe_charge_id)

    @admin.display(description="Transfer")
    def transfer_link(self, obj):
        return stripe_link(obj.stripe_transfer_id)

    @admin.display(description="Refund")
    def refund_button(self, obj):
        if obj.status != Payment.Status.CAPTURED:
            return "—"
        return format_html('<a class="button" href="{}">Refund…</a>', refund_url(obj))

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if can_refund(request) else [f for f in fields if f != "refund_button"]

    def has_refund_permission(self, request):
        return can_refund(request)

    def has_capture_permission(self, request):
        return request.user.has_perm("payments.change_payment")

    @admin.action(description="Refund the selected payment…", permissions=["refund"])
    def refund_action(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one payment to refund.", messages.ERROR)
            return None
        return HttpResponseRedirect(refund_url(queryset.get()))

    @admin.action(description="Capture the selected authorisations", permissions=["capture"])
    def capture_action(self, request, queryset):
        payment_capture_enqueue(self, request, list(queryset))

    @admin.action(description="Cancel the selected authorisations", permissions=["capture"])
    def cancel_action(self, request, queryset):
        payment_cancel_enqueue(self, request, list(queryset))

    @admin.action(description="Retry their capture or cancellation now", permissions=["capture"])
    def retry_action(self, request, queryset):
        retry_selected(self, request, queryset, "captures", "cancellations")

    def get_urls(self):
        view = self.admin_site.admin_view(self.refund_view)
        return [path("<int:payment_id>/refund/", view, name="payments_payment_refund")] + (
            super().get_urls()
        )

    def refund_view(self, request, payment_id):
        """The refund form: amount (all that is refundable by default), reason, policy."""
        if not can_refund(request):
            raise PermissionDenied
        payment = get_object_or_404(Payment.objects.select_related("order"), pk=payment_id)
        available = refundable_amount(payment)
        initial = {"amount": to_decimal_string(available, payment.currency), **refund_policy()}
        form = RefundForm(request.POST or None, currency=payment.currency, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                refund = refund_request(
                    payment_id=payment.pk,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    reverse_transfer=form.cleaned_data["reverse_transfer"],
                    refund_application_fee=form.cleaned_data["refund_application_fee"],
                    requested_by_id=request.user.pk,
                )
            except RefundError as exc:
                form.add_error("amount", str(exc))
            else:
                self.message_user(
                    request,
                    f"Refund of {refund.amount_display} requested; Stripe will confirm it.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:shop_order_change", args=[payment.order_id])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund {payment}",
            "opts": self.model._meta,
            "payment": payment,
            "order": payment.order,
            "form": form,
            "available": format_amount(available, payment.currency),
            "captured": format_amount(payment.amount_captured, payment.currency),
            "refunds": payment.refunds.select_related("requested_by"),
        }
        return render(request, "admin/payments/refund_form.html", context)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "payment",
        "status",
        "total",
        "reason",
        "requested_by",
        "created_at",
    )
    list_filter = ("status", "reason", "reverse_transfer", "refund_application_fee")
    search_fields = (
        "stripe_refund_id",
        "payment__stripe_payment_intent_id",
        "payment__order__public_id",
    )
    list_select_related = ("payment", "requested_by")
    readonly_fields = ("refund_link",)
    total = money_column("amount", "Amount")

    actions = ["retry_action"]

    @admin.display(description="In Stripe")
    def refund_link(self, obj):
        return stripe_link(obj.stripe_refund_id)

    def has_retry_permission(self, request):
        return can_refund(request)

    @admin.action(
        description="Send the selected requested refunds again now", permissions=["retry"]
    )
    def retry_action(self, request, queryset):
        retry_selected(self, request, queryset, "refunds")


def order_payments(orders, status: str | None = None) -> list[Payment]:
    payments = Payment.objects.filter(order__in=orders)
    if status:
        payments = payments.filter(status=status)
    return list(payments)


def order_refund_redirect(modeladmin, request, queryset: "QuerySet[Order]"):
    """The order admin's refund action: refund the order's captured payment."""
    if queryset.count() != 1:
        modeladmin.message_user(request, "Select exactly one order to refund.", messages.ERROR)
        return None
    payments = order_payments(queryset, Payment.Status.CAPTURED)
    if not payments:
        modeladmin.message_user(request, "This order has no captured payment.", messages.ERROR)
        return None
    return HttpResponseRedirect(refund_url(payments[0]))
