from django.contrib import admin
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import money_column, stripe_dashboard_url, stripe_link
from core.money import format_amount
from payments.models import Payment, Refund, StripeEvent

from . import listings
from .forms import ProductAdminForm
from .models import (
    Category,
    ListingStatus,
    Order,
    OrderItem,
    Product,
    ProductPhoto,
    SavedAddress,
    Storefront,
)
from .selectors import LISTING_FILTERS
from .services import product_save
from .storefront import storefront_ensure, storefront_update


class ListingStatusFilter(admin.SimpleListFilter):
    title = "listing"
    parameter_name = "listing"

    def lookups(self, request, model_admin):
        return ListingStatus.choices

    def queryset(self, request, queryset):
        if self.value() in ListingStatus.values:
            return queryset.filter(LISTING_FILTERS[ListingStatus(self.value())])
        return queryset


def thumbnail_tag(name: str, alt: str):
    if not name:
        return "—"
    return format_html(
        '<img src="{}" alt="{}" width="96" height="72" class="admin-thumb">',
        default_storage.url(name),
        alt,
    )


class ProductPhotoInline(admin.TabularInline):
    """The photos as the seller added them; staff remove one from the photo's own page."""

    model = ProductPhoto
    extra = 0
    can_delete = False
    fields = ("preview", "alt_text", "position", "width", "height")
    readonly_fields = fields

    @admin.display(description="Photo")
    def preview(self, obj):
        return thumbnail_tag(obj.thumbnail.name, obj.alt_text)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    # The sellers' own form: price in major units, checked against the fee; contractors only.
    form = ProductAdminForm
    fields = (
        "seller",
        "title",
        "slug",
        "kind",
        "category",
        "description",
        "currency",
        "price",
        "stock",
        "stock_shown",
        "active",
        "archived_at",
    )
    readonly_fields = ("archived_at",)
    list_display = ("title", "seller", "price", "category", "listing", "created_at")
    list_filter = (ListingStatusFilter, "kind", "category", "currency")
    search_fields = ("title", "slug", "seller__email")
    list_select_related = ("seller", "category")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [ProductPhotoInline]
    actions = ["archive_action"]
    price = money_column("price_amount", "Price")

    def get_inline_instances(self, request, obj=None):
        # A product being added has no photos yet (sellers add them on their pages).
        return super().get_inline_instances(request, obj) if obj is not None else []

    @admin.display(description="Listing")
    def listing(self, obj):
        return obj.get_listing_status_display()

    def save_model(self, request, obj, form, change):
        # Through the service: it sets the product's copy of "the seller can take charges".
        # And the seller gets a shop, as with a product they list themselves: the
        # product page links to it. (The admin's save is one transaction already.)
        product_save(product=obj)
        storefront_ensure(seller=obj.seller)

    @admin.action(description="Archive the selected products", permissions=["change"])
    def archive_action(self, request, queryset):
        for product in queryset:
            listings.product_archive(product=product)
        self.message_user(request, f"{len(queryset)} product(s) archived.")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    list_editable = ("position",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(ProductPhoto)
class ProductPhotoAdmin(admin.ModelAdmin):
    """Photos are the sellers' (re-encoded on upload): staff look, and may remove one."""

    list_display = ("preview", "product", "alt_text", "position", "created_at")
    list_select_related = ("product",)
    search_fields = ("product__title", "alt_text")
    fields = ("product", "preview", "alt_text", "position", "width", "height", "created_at")
    readonly_fields = fields

    @admin.display(description="Photo")
    def preview(self, obj):
        return thumbnail_tag(obj.thumbnail.name, obj.alt_text)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        # Through the service: the files go too, once the deletion commits.
        listings.photo_delete(photo=obj, by_staff=True)

    def delete_queryset(self, request, queryset):
        for photo in queryset:
            listings.photo_delete(photo=photo, by_staff=True)


@admin.register(Storefront)
class StorefrontAdmin(admin.ModelAdmin):
    """Sellers make and edit their shops; staff may correct the words."""

    list_display = ("name", "slug", "seller", "created_at")
    list_select_related = ("seller",)
    search_fields = ("name", "slug", "seller__email")
    fields = ("seller", "name", "slug", "description", "logo_preview", "created_at")
    readonly_fields = ("seller", "logo_preview", "created_at")

    @admin.display(description="Logo")
    def logo_preview(self, obj):
        return thumbnail_tag(obj.logo.name, f"{obj.name} logo")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        storefront_update(storefront=obj, name=obj.name, slug=obj.slug, description=obj.description)


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


@admin.register(SavedAddress)
class SavedAddressAdmin(admin.ModelAdmin):
    """A buyer's remembered shipping address (prefills their next checkout). Staff read
    it; the buyer changes it at checkout. Orders keep their own copy."""

    list_display = ("buyer", "name", "city", "country", "updated_at")
    search_fields = ("buyer__email", "name", "city", "postal_code")
    list_select_related = ("buyer",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]

    def has_add_permission(self, request):
        return False
