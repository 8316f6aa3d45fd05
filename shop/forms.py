"""Forms for sellers' products, photos and shops, staff's product admin, and the
tracking of a shipped sale.

One product form serves the seller's pages and admin alike, so the rules a price
must meet (shop.prices) are checked the same way wherever a price is typed.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from accounts.models import User, UserProfile
from core.money import to_decimal_string

from .images import ACCEPT
from .models import Category, Product, ProductPhoto, Storefront
from .prices import PriceError, currency_choices, price_parse
from .shipping_forms import FulfilForm
from .storefront import SLUG_RE, storefront_slug_free

DESCRIPTION_MAX = 5000
# A bound for typing mistakes ("1000000000"), far above any shop's stock.
MAX_STOCK = 1_000_000
KIND_REQUIRED = "Choose whether you sell shipped goods (buyers give an address) or a service."


class ProductForm(forms.ModelForm):
    """Title, category, description and a price typed in major units ("45.00")."""

    currency = forms.ChoiceField(choices=currency_choices)
    price = forms.CharField(
        max_length=32,
        help_text="In the currency's main unit: 45.00 for dollars, 1,500 for yen.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    description = forms.CharField(
        max_length=DESCRIPTION_MAX, required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.all(), required=False, empty_label="No category"
    )
    stock = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_STOCK,
        label="In stock",
        help_text="How many you can sell now. Leave it empty for no limit (e.g. a service). "
        "Items in buyers' unpaid checkouts are already taken off.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    # The stock the form showed: a sale made while the seller edits other fields must
    # not be undone by saving the number they saw (see `stock_changed`).
    stock_shown = forms.CharField(required=False, widget=forms.HiddenInput)

    kind = forms.ChoiceField(
        label="What you sell",
        choices=Product.Kind.choices,
        widget=forms.RadioSelect,
        # Required of a new listing (see __init__); an edited one posted without (a
        # script) keeps what it is.
        required=False,
        help_text="Buyers of shipped goods give their address at checkout; you see it on "
        "the sale and can add a tracking number when you ship.",
    )

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or self.instance.kind

    class Meta:
        model = Product
        fields = ["title", "kind", "category", "description", "currency", "price", "stock"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product = self.instance
        if product.pk:
            self.initial["price"] = to_decimal_string(product.price_amount, product.currency)
            self.initial["stock_shown"] = "" if product.stock is None else str(product.stock)
        else:
            self.initial.setdefault("currency", settings.DEFAULT_CURRENCY)
            # No radio preselected: the model's default (a service), taken by a seller
            # of goods who did not look, would never ask their buyers for an address.
            if "kind" not in (kwargs.get("initial") or {}):
                self.initial.pop("kind", None)
            kind = self.fields["kind"]
            kind.required = True
            kind.error_messages["required"] = KIND_REQUIRED

    @property
    def stock_changed(self) -> bool:
        """Whether the seller typed a new stock (not just sent back the one shown)."""
        if not self.instance.pk:
            return True
        stock = self.cleaned_data.get("stock")
        return ("" if stock is None else str(stock)) != self.cleaned_data.get("stock_shown", "")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        currency, price = data.get("currency"), data.get("price")
        if currency and price:
            try:
                data["price_amount"] = price_parse(price, currency)
            except PriceError as exc:
                self.add_error("price", str(exc))
            else:
                # Model validation (below, in _post_clean) sees the price it will save.
                self.instance.price_amount = data["price_amount"]
        if "stock" in data and not self.stock_changed:
            # Left as it was: the row's own value stays (a ModelForm skips a field
            # missing from cleaned_data), whatever was sold meanwhile.
            del data["stock"]
        return data

    def listing_changes(self) -> dict[str, Any]:
        """The cleaned fields as shop.listings.product_update takes them."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "price_amount": data["price_amount"],
            "currency": data["currency"],
            "category": data["category"],
            "kind": data["kind"],
            **({"stock": data["stock"]} if "stock" in data else {}),
        }


class ProductAdminForm(ProductForm):
    """The seller's form plus what staff decide: whose it is, its address, listed."""

    seller = forms.ModelChoiceField(
        queryset=User.objects.filter(profile__role=UserProfile.Role.CONTRACTOR).order_by("email"),
        help_text="Contractors only.",
    )

    class Meta(ProductForm.Meta):
        fields = [
            *("seller", "title", "slug", "kind", "category", "description", "currency", "price"),
            *("stock", "active"),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("active") and self.instance.archived_at is not None:
            self.add_error("active", "This product is archived: it cannot be listed again.")
        return data


class TrackingForm(FulfilForm):
    """The carrier and tracking number of a sale already fulfilled: the fulfil form's
    rules, and something to say (shop.tracking.order_tracking_update)."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not self.errors and not (data.get("carrier") or data.get("tracking_number")):
            raise forms.ValidationError("Enter the carrier, the tracking number, or both.")
        return data


class PhotoForm(forms.Form):
    image = forms.FileField(
        label="Photo",
        help_text="JPEG, PNG, WebP or GIF. It is re-saved without its metadata (camera, place).",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    alt_text = forms.CharField(
        label="Describe the photo",
        max_length=200,
        help_text="For people who cannot see it, e.g. “Oak board, top view”.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = filesizeformat(settings.PRODUCT_PHOTO_MAX_BYTES)
        self.fields["image"].help_text += f" At most {limit}."


class PhotoAltForm(forms.Form):
    alt_text = forms.CharField(label="Description", max_length=200)

    @classmethod
    def for_photo(cls, photo: ProductPhoto, data: Any = None) -> "PhotoAltForm":
        # One form per photo on the page: ids of their own.
        return cls(data, initial={"alt_text": photo.alt_text}, auto_id=f"photo{photo.pk}_%s")


class StorefrontForm(forms.ModelForm):
    """The shop's public page. The logo is a separate upload field: the service
    re-encodes it, so the model's field is never set from the request."""

    description = forms.CharField(
        max_length=DESCRIPTION_MAX, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    logo_upload = forms.FileField(
        label="Logo",
        required=False,
        help_text="Optional. JPEG, PNG, WebP or GIF; shown at most 320 pixels wide.",
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
    )
    remove_logo = forms.BooleanField(label="Remove the current logo", required=False)

    class Meta:
        model = Storefront
        fields = ["name", "slug", "description"]
        labels = {"name": "Shop name", "slug": "Shop address"}
        help_texts = {
            # (Help texts are shown as HTML: no angle brackets.)
            "slug": "Your page is /shops/your-address/: lower-case letters, digits and "
            "hyphens. Changing it breaks links to the old address."
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.logo:
            del self.fields["remove_logo"]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].lower()
        if not SLUG_RE.match(slug):
            raise forms.ValidationError(
                "Use lower-case letters and digits, with single hyphens between words."
            )
        if not storefront_slug_free(slug, exclude_pk=self.instance.pk):
            raise forms.ValidationError("Another shop has this address. Choose another.")
        return slug
