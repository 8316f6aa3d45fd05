from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import money_column, stripe_dashboard_url, stripe_link
from core.money import format_amount
from payments.models import Payment, Refund, StripeEvent

from .models import Order, OrderItem, Product
from .services import product_save


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("title", "seller", "price", "active", "created_at")
    list_filter = ("active", "currency")
    search_fields = ("title", "slug", "seller__email")
    list_select_related = ("seller",)
    prepopulated_fields = {"slug": ("title",)}
    price = money_column("price_amount", "Price")

    def save_model(self, request, obj, form, change):
        # Through the service: it sets the product's copy of "the seller can take charges".
        product_save(product=obj)


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = ("product", "title", "unit_price", "quantity")
    readonly_fields = fields

    @admin.display(description="Unit price")
    def unit_price(self, obj):
        return format_amount(obj.unit_amount, obj.order.currency)

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = ("intent", "status", "captured", "refunded", "fee", "refund")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if request.user.has_perm("payments.add_refund"):
            return fields
        return [f for f in fields if f != "refund"]

    @admin.display(description="PaymentIntent")
    def intent(self, obj):
        admin_link = format_html(
            '<a href="{}">{}</a>',
            reverse("admin:payments_payment_change", args=[obj.pk]),
            obj.stripe_payment_intent_id or f"#{obj.pk}",
        )
        dashboard = stripe_dashboard_url(obj.stripe_payment_intent_id or "")
        if not dashboard:
            return admin_link
        return format_html(
            '{} <a href="{}" target="_blank" rel="noopener" title="In Stripe">↗</a>',
            admin_link,
            dashboard,
        )

    captured = money_column("amount_captured", "Captured")
    refunded = money_column("amount_refunded", "Refunded")
    fee = money_column("application_fee_amount", "Fee")

    @admin.display(description="")
    def refund(self, obj):
        from payments.admin.payments import refund_url

        if obj.status != "captured" or obj.refundable_amount <= 0:
            return ""
        return format_html('<a class="button" href="{}">Refund…</a>', refund_url(obj))


class FlaggedFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", "Flagged"), ("no", "Not flagged")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(flagged=True)
        if self.value() == "no":
            return queryset.filter(flagged=False)
        return queryset


class ContractorFilter(admin.SimpleListFilter):
    title = "contractor"
    parameter_name = "seller"

    def lookups(self, request, model_admin):
        sellers = Order.objects.values_list("seller_id", "seller__email").distinct()
        return sorted(sellers, key=lambda pair: pair[1])[:200]

    def queryset(self, request, queryset):
        return queryset.filter(seller_id=self.value()) if self.value() else queryset


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "public_id",
        "buyer",
        "seller",
        "status",
        "total",
        "fee",
        "flagged",
        "created_at",
    )
    list_filter = ("status", ContractorFilter, FlaggedFilter, "created_at", "currency")
    date_hierarchy = "created_at"
    search_fields = (
        "public_id",
        "buyer__email",
        "seller__email",
        "payments__stripe_payment_intent_id",
        "payments__stripe_charge_id",
        "payments__refunds__stripe_refund_id",
    )
    list_select_related = ("buyer", "seller")
    readonly_fields = (
        "public_id",
        "checkout_id",
        "buyer",
        "seller",
        "status",
        "total",
        "fee",
        "currency",
        "attention",
        "refunds",
        "events",
        "created_at",
        "updated_at",
    )
    exclude = ("amount", "fee_amount", "flagged", "flag_reason")
    inlines = [OrderItemInline, PaymentInline]
    actions = ["refund_action", "capture_action", "cancel_action"]
    total = money_column("amount", "Amount")
    fee = money_column("fee_amount", "Platform fee")

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return queryset, True  # joins through payments and refunds

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Needs attention")
    def attention(self, obj):
        if not obj.flagged:
            return "No"
        return format_html('<strong class="errornote">Yes: {}</strong>', obj.flag_reason)

    @admin.display(description="Refunds")
    def refunds(self, obj):
        rows = Refund.objects.filter(payment__order=obj).select_related("requested_by")
        if not rows:
            return "—"
        return format_html_join(
            "",
            "<div>{} · {} · {} · {}</div>",
            (
                (
                    stripe_link(r.stripe_refund_id) if r.stripe_refund_id else f"#{r.pk}",
                    r.amount_display,
                    r.get_status_display(),
                    r.requested_by or "Stripe dashboard",
                )
                for r in rows
            ),
        )

    @admin.display(description="Webhook events")
    def events(self, obj):
        intents = [
            p.stripe_payment_intent_id for p in obj.payments.all() if p.stripe_payment_intent_id
        ]
        rows = StripeEvent.objects.filter(payload__data__object__id__in=intents).order_by(
            "received_at"
        )[:50]
        if not rows:
            return "—"
        return format_html_join(
            "",
            '<div><a href="{}">{}</a> · {} · {}</div>',
            (
                (
                    reverse("admin:payments_stripeevent_change", args=[e.pk]),
                    e.type,
                    e.get_status_display(),
                    e.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                )
                for e in rows
            ),
        )

    def has_refund_permission(self, request):
        return request.user.has_perm("payments.add_refund")

    def has_capture_permission(self, request):
        return request.user.has_perm("payments.change_payment")

    @admin.action(description="Refund the selected order…", permissions=["refund"])
    def refund_action(self, request, queryset):
        from payments.admin.payments import order_refund_redirect

        return order_refund_redirect(self, request, queryset)

    @admin.action(
        description="Capture the selected orders' authorisations", permissions=["capture"]
    )
    def capture_action(self, request, queryset):
        from payments.admin.payments import order_payments, payment_capture_enqueue

        payment_capture_enqueue(self, request, order_payments(queryset))

    @admin.action(description="Cancel the selected authorisations", permissions=["capture"])
    def cancel_action(self, request, queryset):
        from payments.admin.payments import order_payments, payment_cancel_enqueue

        payment_cancel_enqueue(self, request, order_payments(queryset))


@admin.register(OrderItem)
class OrderItemAdmin(admin.ModelAdmin):
    list_display = ("title", "order", "quantity", "unit")
    search_fields = ("title", "order__public_id")
    list_select_related = ("order",)
    readonly_fields = ("order", "product", "title", "unit_amount", "quantity")

    @admin.display(description="Unit price")
    def unit(self, obj):
        return format_amount(obj.unit_amount, obj.order.currency)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # An item is part of what the buyer paid for: a record, never deleted.
        return False
