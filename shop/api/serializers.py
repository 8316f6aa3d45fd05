"""Input and output serializers: shapes only, no business rules.

Input serializers check types and bounds; what is allowed (buyable products,
quantities, ownership, states) is decided by the services. Output serializers
render money as integer minor units plus currency plus a `*_display` string.
"""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import UserProfile
from core.money import format_amount
from payments.models import Payment, Refund
from shop.cart import MAX_QUANTITY
from shop.models import Order, OrderItem, Product
from shop.selectors import SORTS

from .selectors import order_is_payable, order_payment
from .seller_serializers import PhotoSerializer
from .shipping_serializers import ShippingAddressSerializer, address_or_none

MAX_ID = 2**63 - 1  # the largest id a database row can have
CURRENCY_PATTERN = r"^[A-Za-z]{3}$"


@extend_schema_field(OpenApiTypes.STR)
class DisplayAmountField(serializers.Field):
    """The object's `amount_attr` written for people in its currency, e.g. "$25.00"."""

    def __init__(self, amount_attr: str, **kwargs: Any):
        kwargs["source"] = "*"
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.amount_attr = amount_attr

    def to_representation(self, value: Any) -> str:
        return format_amount(getattr(value, self.amount_attr), value.currency)


# --- Accounts -----------------------------------------------------------------------


class TokenInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='Send as the header "Authorization: Token <token>".')
    expiry = serializers.DateTimeField(
        help_text="When the token stops working (each use extends it, up to the same TTL)."
    )


class ConnectStatusSerializer(serializers.Serializer):
    charges_enabled = serializers.BooleanField()
    payouts_enabled = serializers.BooleanField()
    details_submitted = serializers.BooleanField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(
        choices=UserProfile.Role.choices, source="profile.role", allow_null=True
    )
    name = serializers.CharField(source="profile.name", allow_null=True)
    is_staff = serializers.BooleanField()
    connect = serializers.SerializerMethodField(
        help_text="Contractors' Stripe Connect status; null for buyers and staff."
    )

    @extend_schema_field(ConnectStatusSerializer(allow_null=True))
    def get_connect(self, user: Any) -> dict[str, Any] | None:
        profile = getattr(user, "profile", None)
        if profile is None or not profile.is_contractor:
            return None
        return ConnectStatusSerializer(profile).data


class PartySerializer(serializers.Serializer):
    """A seller as buyers see them."""

    id = serializers.IntegerField()
    name = serializers.CharField(source="profile.name")


class BuyerSerializer(PartySerializer):
    """A buyer as their contractor sees them (as on the sales page)."""

    email = serializers.EmailField()


# --- Catalogue ----------------------------------------------------------------------


class ProductFilterSerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Words in the title, the description or the seller's shop name.",
    )
    seller = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="The seller's id."
    )
    currency = serializers.RegexField(
        CURRENCY_PATTERN, required=False, help_text="ISO 4217 code, e.g. usd."
    )
    category = serializers.SlugField(
        required=False, max_length=90, help_text="A category's slug (unknown: no products)."
    )
    sort = serializers.ChoiceField(
        choices=list(SORTS),
        required=False,
        help_text="newest (default), price_asc or price_desc (prices compare within a currency).",
    )


class ThumbnailSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The first photo's 480 × 360 thumbnail.")
    alt = serializers.CharField(help_text="Its alternative text.")


class ShopSerializer(serializers.Serializer):
    slug = serializers.SlugField(help_text="The shop's page is /shops/{slug}/.")
    name = serializers.CharField()


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Use as `product` when checking out.")
    slug = serializers.SlugField()
    title = serializers.CharField()
    description = serializers.CharField()
    price_amount = serializers.IntegerField(help_text="Minor units, e.g. cents.")
    currency = serializers.CharField()
    price_display = serializers.CharField()
    seller = PartySerializer()
    shop = serializers.SerializerMethodField(help_text="The seller's shop; null until made.")
    category = serializers.SlugField(
        source="category.slug", allow_null=True, help_text="The category's slug, if any."
    )
    thumbnail = serializers.SerializerMethodField(help_text="Null for a product without photos.")
    stock = serializers.IntegerField(
        allow_null=True, help_text="How many can be bought now; null: no limit."
    )
    sold_out = serializers.BooleanField(help_text="None left: it cannot be added to a cart.")
    kind = serializers.ChoiceField(
        choices=Product.Kind.choices,
        help_text="`shipped`: checkout asks for a shipping address; `service`: it does not.",
    )
    created_at = serializers.DateTimeField()

    @extend_schema_field(ShopSerializer(allow_null=True))
    def get_shop(self, product: Product) -> Any:
        shop = getattr(product.seller, "storefront", None)
        return ShopSerializer(shop).data if shop is not None else None

    @extend_schema_field(ThumbnailSerializer(allow_null=True))
    def get_thumbnail(self, product: Product) -> Any:
        cover = product.cover
        return ThumbnailSerializer(cover).data if cover is not None else None


class ProductDetailSerializer(ProductSerializer):
    buyable = serializers.SerializerMethodField(
        help_text="False while the seller cannot take payments: the product cannot be bought."
    )
    photos = serializers.SerializerMethodField(help_text="In the seller's order.")

    def get_buyable(self, product: Any) -> bool:
        return bool(self.context["buyable"])

    @extend_schema_field(PhotoSerializer(many=True))
    def get_photos(self, product: Product) -> Any:
        return PhotoSerializer(product.photos.all(), many=True).data


# --- Orders -------------------------------------------------------------------------


class CheckoutItemSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Product id.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class CheckoutInputSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=CheckoutItemSerializer(), min_length=1, max_length=100, allow_empty=False
    )
    shipping = ShippingAddressSerializer(
        required=False,
        help_text="Where the goods go: required when a product is `shipped`, "
        "sent to Stripe as the PaymentIntent's `shipping`.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        ids = [item["product"] for item in attrs["items"]]
        ships = Product.objects.filter(pk__in=ids, kind=Product.Kind.SHIPPED).exists()
        if ships and not attrs.get("shipping"):
            raise serializers.ValidationError(
                {"shipping": ["These items ship: give a shipping address."]}
            )
        return attrs


class OrderFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)
    checkout_id = serializers.UUIDField(required=False)


class SaleFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)


class OrderItemSerializer(serializers.Serializer):
    """A line of an order, priced as when it was bought, in the order's currency."""

    product = serializers.IntegerField(
        source="product_id", allow_null=True, help_text="Null once the product is deleted."
    )
    title = serializers.CharField(help_text="As it was when bought.")
    quantity = serializers.IntegerField()
    unit_amount = serializers.IntegerField()
    unit_display = serializers.SerializerMethodField()
    line_amount = serializers.IntegerField()
    line_display = serializers.SerializerMethodField()

    def get_unit_display(self, item: OrderItem) -> str:
        return format_amount(item.unit_amount, self.context["currency"])

    def get_line_display(self, item: OrderItem) -> str:
        return format_amount(item.line_amount, self.context["currency"])


class PaymentSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Payment.Status.choices)
    status_display = serializers.CharField(source="get_status_display")
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    amount_display = serializers.CharField()
    client_secret = serializers.SerializerMethodField(
        help_text="The PaymentIntent's client secret for Stripe.js while the order awaits "
        "payment; null once paid, or while the payment service is unreachable. The orders "
        "of one checkout from several contractors share one intent: confirm each distinct "
        "secret once."
    )
    last_error_message = serializers.CharField(help_text="Why the last card was declined.")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_client_secret(self, payment: Payment) -> str | None:
        return self.context.get("client_secrets", {}).get(payment.pk)


class OrderSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    checkout_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Order.Status.choices)
    status_display = serializers.CharField(source="get_status_display")
    seller = PartySerializer()
    amount = serializers.IntegerField(help_text="Minor units, e.g. cents.")
    currency = serializers.CharField()
    amount_display = serializers.CharField()
    items = serializers.SerializerMethodField()
    payment = serializers.SerializerMethodField()
    payable = serializers.SerializerMethodField(
        help_text="True while the buyer still has to pay (POST …/payment/ for a client secret)."
    )
    shipping = serializers.SerializerMethodField(
        help_text="Where the goods go; null for services (or until the buyer gives it)."
    )
    carrier = serializers.CharField(help_text="Given by the contractor when shipping.")
    tracking_number = serializers.CharField(help_text="Given by the contractor when shipping.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(ShippingAddressSerializer(allow_null=True))
    def get_shipping(self, order: Order) -> Any:
        return address_or_none(order)

    @extend_schema_field(OrderItemSerializer(many=True))
    def get_items(self, order: Order) -> Any:
        items = order.items.all()
        return OrderItemSerializer(items, many=True, context={"currency": order.currency}).data

    @extend_schema_field(PaymentSerializer(allow_null=True))
    def get_payment(self, order: Order) -> Any:
        payment = order_payment(order)
        if payment is None:
            return None
        return PaymentSerializer(payment, context=self.context).data

    def get_payable(self, order: Order) -> bool:
        return order_is_payable(order, order_payment(order))


class CheckoutSerializer(serializers.Serializer):
    checkout_id = serializers.UUIDField(help_text="Shared by the orders of one checkout.")
    publishable_key = serializers.CharField(help_text="For Stripe.js.")
    orders = OrderSerializer(many=True, help_text="One order per contractor.")


class OrderPaymentSerializer(PaymentSerializer):
    order = serializers.UUIDField(source="order.public_id")
    publishable_key = serializers.SerializerMethodField(help_text="For Stripe.js.")

    def get_publishable_key(self, payment: Payment) -> str:
        return self.context["publishable_key"]


class SaleSerializer(OrderSerializer):
    buyer = BuyerSerializer()
    fee_amount = serializers.IntegerField(help_text="The platform's fee, minor units.")
    fee_display = serializers.CharField()
    net_amount = serializers.IntegerField(help_text="What the contractor receives.")
    net_display = DisplayAmountField("net_amount")
    flagged = serializers.BooleanField(help_text="Staff are looking into this order.")


# --- Contractors --------------------------------------------------------------------


class BalanceFilterSerializer(serializers.Serializer):
    refresh = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Read the balance from Stripe first (at most once per "
        "BALANCE_REFRESH_MIN_SECONDS; otherwise the last reading is returned).",
    )


class BalanceItemSerializer(serializers.Serializer):
    currency = serializers.CharField()
    available_amount = serializers.IntegerField(help_text="Minor units; may be negative.")
    available_display = DisplayAmountField("available_amount")
    pending_amount = serializers.IntegerField(help_text="Minor units.")
    pending_display = DisplayAmountField("pending_amount")
    fetched_at = serializers.DateTimeField(help_text="When this was read from Stripe.")


class BalanceSerializer(serializers.Serializer):
    balances = BalanceItemSerializer(many=True, help_text="One per currency; empty until read.")


class OnboardingLinkSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Stripe's hosted onboarding; single use, expires soon.")


# --- Staff --------------------------------------------------------------------------


class RefundInputSerializer(serializers.Serializer):
    order = serializers.UUIDField(help_text="The order's id; its captured payment is refunded.")
    amount = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        help_text="Minor units; at most what was captured less what is already refunded.",
    )
    reason = serializers.ChoiceField(choices=Refund.Reason.choices, required=False)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Staff's own words."
    )
    reverse_transfer = serializers.BooleanField(
        required=False, help_text="Take the contractor's share back (default: platform policy)."
    )
    refund_application_fee = serializers.BooleanField(
        required=False, help_text="Give back the platform fee (default: platform policy)."
    )


class RefundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.UUIDField(source="payment.order.public_id")
    status = serializers.ChoiceField(choices=Refund.Status.choices)
    status_display = serializers.CharField(source="get_status_display")
    amount = serializers.IntegerField(help_text="Minor units.")
    currency = serializers.CharField()
    amount_display = serializers.CharField()
    reason = serializers.CharField(help_text="One of the reasons, or empty.")
    note = serializers.CharField()
    reverse_transfer = serializers.BooleanField()
    refund_application_fee = serializers.BooleanField()
    created_at = serializers.DateTimeField()
