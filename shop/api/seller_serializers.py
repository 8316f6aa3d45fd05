"""Shapes of the sellers' listing endpoints (/api/seller/products/…).

Prices go in as sellers type them, in major units ("45.00", "1,500" for JPY), and come
out as minor units plus a `*_display` string, as everywhere in the API. The rules a
price must meet are shop.prices', shared with the web pages and admin.
"""

from typing import Any

from django.core.files.storage import default_storage
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.money import format_amount, to_decimal_string
from shop.fees import platform_fee
from shop.forms import DESCRIPTION_MAX, MAX_STOCK
from shop.images import FORMATS
from shop.models import Category, ListingStatus, Product, ProductPhoto
from shop.prices import PriceError, currency_choices, price_parse

HIDDEN_REASONS = {
    "archived": "Archived: withdrawn for good.",
    "paused": "Paused by you.",
    "payments_not_set_up": "Your Stripe account cannot take payments yet: finish onboarding.",
}


class PhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="The photo, re-encoded as JPEG.")
    thumbnail_url = serializers.SerializerMethodField(help_text="480 × 360, cropped to fill.")
    alt_text = serializers.CharField()
    position = serializers.IntegerField(help_text="0 is the first photo, the one lists show.")
    width = serializers.IntegerField()
    height = serializers.IntegerField()

    def get_url(self, photo: ProductPhoto) -> str:
        return default_storage.url(photo.image.name)

    def get_thumbnail_url(self, photo: ProductPhoto) -> str:
        return default_storage.url(photo.thumbnail.name)


def hidden_reason(product: Product, *, can_charge: bool) -> str | None:
    """Why buyers do not see the product (a HIDDEN_REASONS key), or None when they do."""
    status = product.listing_status
    if status != ListingStatus.LIVE:
        return str(status)
    return None if can_charge else "payments_not_set_up"


class SellerProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField(help_text="The product page is /products/{slug}/.")
    title = serializers.CharField()
    description = serializers.CharField()
    price = serializers.SerializerMethodField(help_text='Major units, as typed: "45.00".')
    price_amount = serializers.IntegerField(help_text="Minor units, e.g. cents.")
    currency = serializers.CharField()
    price_display = serializers.CharField()
    stock = serializers.IntegerField(
        allow_null=True,
        help_text="How many can be sold now (null: no limit). Unpaid checkouts' items "
        "are already taken off.",
    )
    sold_out = serializers.BooleanField(help_text="A stock of 0: buyers cannot add it.")
    kind = serializers.ChoiceField(
        choices=Product.Kind.choices, help_text="Buyers of shipped goods give an address."
    )
    fee_amount = serializers.SerializerMethodField(help_text="The platform's fee on one sale.")
    fee_display = serializers.SerializerMethodField()
    category = serializers.SlugField(
        source="category.slug", allow_null=True, help_text="The category's slug, if any."
    )
    status = serializers.ChoiceField(choices=ListingStatus.choices, source="listing_status")
    buyable = serializers.SerializerMethodField(help_text="Buyers can see and buy it now.")
    hidden_reason = serializers.SerializerMethodField(
        help_text="Why buyers do not see it: "
        + "; ".join(f"`{k}`: {v}" for k, v in HIDDEN_REASONS.items())
    )
    photos = PhotoSerializer(many=True, source="photos.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_price(self, product: Product) -> str:
        return to_decimal_string(product.price_amount, product.currency)

    def get_fee_amount(self, product: Product) -> int:
        return platform_fee(product.price_amount)

    def get_fee_display(self, product: Product) -> str:
        return format_amount(platform_fee(product.price_amount), product.currency)

    def get_buyable(self, product: Product) -> bool:
        return hidden_reason(product, can_charge=self.context["can_charge"]) is None

    @extend_schema_field(serializers.ChoiceField(choices=list(HIDDEN_REASONS), allow_null=True))
    def get_hidden_reason(self, product: Product) -> str | None:
        return hidden_reason(product, can_charge=self.context["can_charge"])


class SellerProductFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ListingStatus.choices, required=False)


class CurrencyField(serializers.ChoiceField):
    """One of settings.SHOP_CURRENCIES, read when the serializer is made."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=currency_choices(), **kwargs)


class SellerProductInputSerializer(serializers.Serializer):
    """A new product, or (partial) the fields to change. A new currency needs the price
    again: 4500 cents are not 4500 yen."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=DESCRIPTION_MAX, allow_blank=True, default="")
    price = serializers.CharField(
        max_length=32,
        help_text='Major units as people type them: "45.00", "1,500" (JPY). Refused with '
        "more decimals than the currency has, or when the platform fee would take it all.",
    )
    currency = CurrencyField()
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), allow_null=True, default=None
    )
    stock = serializers.IntegerField(
        min_value=0,
        max_value=MAX_STOCK,
        allow_null=True,
        default=None,
        help_text="How many can be sold from now on; null (the default) for no limit.",
    )
    kind = serializers.ChoiceField(
        choices=Product.Kind.choices,
        default=Product.Kind.SERVICE,
        help_text="`shipped`: buyers give a shipping address at checkout; `service`: "
        "nothing is sent. Left out of a new product, it defaults to `service` (unlike the "
        "web form, which makes the seller choose): send `shipped` for goods that ship.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        product: Product | None = self.context.get("product")
        currency = attrs.get("currency") or (product.currency if product else "")
        if "price" in attrs:
            try:
                attrs["price_amount"] = price_parse(attrs.pop("price"), currency)
            except PriceError as exc:
                raise serializers.ValidationError({"price": [str(exc)]}) from None
        elif product is not None and attrs.get("currency", product.currency) != product.currency:
            raise serializers.ValidationError(
                {"price": ["Give the price again in the new currency."]}
            )
        return attrs


class PhotoInputSerializer(serializers.Serializer):
    image = serializers.FileField(
        help_text=f"{', '.join(FORMATS)}; checked by decoding it, "
        "re-encoded without metadata; at most PRODUCT_PHOTO_MAX_BYTES."
    )
    alt_text = serializers.CharField(max_length=200, help_text="What the photo shows.")


class PhotoUpdateSerializer(serializers.Serializer):
    alt_text = serializers.CharField(max_length=200, required=False)
    position = serializers.IntegerField(
        min_value=0, max_value=100, required=False, help_text="0 moves it first."
    )
