"""Catalogue and orders. Amounts are integer minor units plus a lowercase currency."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.urls import reverse

from core.money import format_amount

CURRENCY_CODE = r"^[a-z]{3}$"


class Category(models.Model):
    """A catalogue section, managed by staff in admin."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=90, unique=True)
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Lower numbers come first in the catalogue's list."
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class ListingStatus(models.TextChoices):
    """Where a product stands for buyers; derived from `active` and `archived_at`."""

    LIVE = "live", "Live"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


@dataclass(frozen=True)
class Cover:
    """The thumbnail shown for a product in lists: its first photo's."""

    url: str
    alt: str


class Product(models.Model):
    class Kind(models.TextChoices):
        """Whether buying it means sending something: shipped goods need the buyer's
        address at checkout; services (a repair, a class) do not."""

        SHIPPED = "shipped", "Shipped goods"
        SERVICE = "service", "Service"

    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="products"
    )
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    price_amount = models.PositiveBigIntegerField(help_text="Minor units, e.g. cents.")
    currency = models.CharField(max_length=3)
    # How many can be sold now; None is no limit (services). Checkouts take their
    # quantities off when they are made and give them back when they end unpaid
    # (shop/stock.py), so this is what is left for the next buyer, not what is on a shelf.
    stock = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="How many you can sell now. Leave blank for no limit (e.g. a service).",
    )
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="products"
    )
    # A service unless the seller says it ships: listings made before shipping existed
    # asked nobody for an address, and must not start asking for one unannounced.
    kind = models.CharField(
        max_length=16,
        choices=Kind.choices,
        default=Kind.SERVICE,
        help_text="Shipped goods ask the buyer for a shipping address at checkout.",
    )
    # Listed: in the catalogue (when the seller can take charges) and buyable. A seller
    # pauses a product by clearing it; archiving sets archived_at and clears it for good.
    active = models.BooleanField(default=True)
    # Archived products are never deleted: past orders' items still point at them.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A copy of the seller's UserProfile.can_take_charges, kept by shop.services.product_save
    # and seller_products_sync (called when Stripe changes the account), so
    # the catalogue filters on this table alone. Filtering through a join to the
    # profiles, PostgreSQL could not know that the products belong to the few sellers
    # who can sell, and searched them seller by seller (bench/README.md).
    seller_can_charge = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The catalogue: buyable products, newest first (shop.selectors.BUYABLE).
            models.Index(
                fields=["-created_at", "-id"],
                condition=models.Q(active=True, seller_can_charge=True),
                name="shop_product_buyable_newest",
            ),
            # The catalogue sorted by price, either way (an index reads backwards too),
            # currency by currency, or within the one currency a filter asks for.
            models.Index(
                fields=["currency", "price_amount", "id"],
                condition=models.Q(active=True, seller_can_charge=True),
                name="shop_product_buyable_price",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_amount__gt=0), name="shop_product_price_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_CODE),
                name="shop_product_currency_code",
            ),
            models.CheckConstraint(
                condition=models.Q(archived_at__isnull=True) | models.Q(active=False),
                name="shop_product_archived_not_active",
            ),
            # PositiveIntegerField's own check, named, so a reservation that would go
            # below zero fails loudly whatever the database.
            models.CheckConstraint(
                condition=models.Q(stock__isnull=True) | models.Q(stock__gte=0),
                name="shop_product_stock_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("shop:product_detail", kwargs={"slug": self.slug})

    @property
    def listing_status(self) -> str:
        if self.archived_at is not None:
            return ListingStatus.ARCHIVED
        return ListingStatus.LIVE if self.active else ListingStatus.PAUSED

    def get_listing_status_display(self) -> str:
        return ListingStatus(self.listing_status).label

    @property
    def cover(self) -> Cover | None:
        """The first photo's thumbnail, from the selectors' annotation (no query) or,
        without it, from the photos (prefetched, else one query)."""
        if hasattr(self, "cover_thumbnail"):
            name, alt = self.cover_thumbnail, getattr(self, "cover_alt", "")
        else:
            first = next(iter(self.photos.all()), None)
            name, alt = (first.thumbnail.name, first.alt_text) if first else (None, "")
        return Cover(default_storage.url(name), alt) if name else None

    @property
    def price_display(self) -> str:
        return format_amount(self.price_amount, self.currency)

    @property
    def sold_out(self) -> bool:
        return self.stock is not None and self.stock <= 0


class ProductPhoto(models.Model):
    """A product photo as we re-encoded it (no metadata), with its thumbnail; the
    product's photos are shown in `position` order, the first one in lists."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(max_length=255)
    thumbnail = models.ImageField(max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    alt_text = models.CharField(
        max_length=200, help_text="What the photo shows, for screen readers."
    )
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"Photo {self.position + 1} of {self.product}"


class Storefront(models.Model):
    """A seller's public shop page (/shops/<slug>/)."""

    seller = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="storefront"
    )
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    logo = models.ImageField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Shop addresses are compared as typed in lower case: one shop per address.
            models.CheckConstraint(
                condition=models.Q(slug__regex=r"^[a-z0-9]+(-[a-z0-9]+)*$"),
                name="shop_storefront_slug_lowercase",
                violation_error_message="Use lower-case letters, digits and single hyphens.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("shop:storefront", kwargs={"slug": self.slug})


class Order(models.Model):
    """What one buyer owes one contractor; paid by one PaymentIntent."""

    class CancelReason(models.TextChoices):
        """Why an order ended canceled, when the shop canceled it (empty otherwise)."""

        NONE = "", "—"
        # The buyer changed the cart: a newer checkout took its place (hidden from the
        # buyer's list: it was never a purchase of its own).
        REPLACED = "replaced", "Replaced by a newer checkout"
        ABANDONED = "abandoned", "Not paid in time"
        BUYER = "buyer", "Canceled by you"

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        FAILED = "failed", "Payment failed"
        AUTHORIZED = "authorized", "Authorised"
        FULFILLED = "fulfilled", "Fulfilled, capturing"
        CAPTURED = "captured", "Paid"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"
        CANCELED = "canceled", "Canceled"
        EXPIRED = "expired", "Authorisation expired"

    TRANSITIONS = {
        Status.PENDING: frozenset(
            {Status.FAILED, Status.AUTHORIZED, Status.CAPTURED, Status.CANCELED}
        ),
        # After a decline the buyer may pay with another card.
        Status.FAILED: frozenset({Status.AUTHORIZED, Status.CAPTURED, Status.CANCELED}),
        # Staff may capture an authorised order directly, without fulfilment.
        Status.AUTHORIZED: frozenset(
            {Status.FULFILLED, Status.CAPTURED, Status.CANCELED, Status.EXPIRED}
        ),
        # A capture can still fail: the authorisation was canceled or ran out.
        Status.FULFILLED: frozenset({Status.CAPTURED, Status.CANCELED, Status.EXPIRED}),
        Status.CAPTURED: frozenset({Status.PARTIALLY_REFUNDED, Status.REFUNDED}),
        Status.PARTIALLY_REFUNDED: frozenset({Status.PARTIALLY_REFUNDED, Status.REFUNDED}),
        Status.REFUNDED: frozenset(),
        Status.CANCELED: frozenset(),
        Status.EXPIRED: frozenset(),
    }

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Orders made from one cart share it: one order (and PaymentIntent) per contractor.
    checkout_id = models.UUIDField(default=uuid.uuid4, db_index=True, editable=False)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales"
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING)
    amount = models.PositiveBigIntegerField()
    fee_amount = models.PositiveBigIntegerField(help_text="Platform fee, minor units.")
    currency = models.CharField(max_length=3)
    flagged = models.BooleanField(default=False, help_text="Needs staff attention.")
    flag_reason = models.CharField(max_length=255, blank=True, default="")
    cancel_reason = models.CharField(
        max_length=16, choices=CancelReason.choices, blank=True, default=""
    )
    # Some of its items ship: the checkout asks for an address before the pay step,
    # and the PaymentIntent carries it as `shipping` (shop/shipping.py). Decided when
    # the order is made, so a product changed later does not change a past order.
    requires_shipping = models.BooleanField(default=False, editable=False)
    shipping_name = models.CharField(max_length=100, blank=True, default="")
    shipping_line1 = models.CharField(max_length=200, blank=True, default="")
    shipping_line2 = models.CharField(max_length=200, blank=True, default="")
    shipping_city = models.CharField(max_length=100, blank=True, default="")
    shipping_postal_code = models.CharField(max_length=20, blank=True, default="")
    shipping_state = models.CharField(max_length=100, blank=True, default="")
    shipping_country = models.CharField(max_length=2, blank=True, default="")
    # What the contractor gave when marking it fulfilled, for the buyer to follow.
    carrier = models.CharField(max_length=100, blank=True, default="")
    tracking_number = models.CharField(max_length=100, blank=True, default="")
    # When the contractor marked it fulfilled (shipped, or the service given): dispute
    # evidence states it (shipping_date / service_date).
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    # Its items' stock is taken off their products (OrderItem.stock_reserved) and not
    # yet given back or sold: see `save` and shop/stock.py.
    stock_held = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            # shop.stock.stock_sweep: the few orders still holding stock, by status.
            models.Index(
                fields=["status"], condition=models.Q(stock_held=True), name="shop_order_stock_held"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="shop_order_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(fee_amount__lte=models.F("amount")),
                name="shop_order_fee_within_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_CODE),
                name="shop_order_currency_code",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.public_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, and settle the stock the order holds when its status ends the hold.

        Every status change is a save of the locked row (core.statemachine), wherever
        it starts: our services, payments' webhook handlers (an authorisation canceled
        or expired at Stripe), staff. So this is the one place that sees them all: a
        canceled or expired order gives its stock back, a fulfilled or captured one
        keeps it sold, in the same transaction as the status change.
        (shop.stock.stock_sweep catches a status written without a save.)
        """
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if self.stock_held and (update_fields is None or "status" in update_fields):
            from .stock import order_stock_settle

            order_stock_settle(self)

    @property
    def amount_display(self) -> str:
        return format_amount(self.amount, self.currency)

    @property
    def shipping_missing(self) -> bool:
        """Its items ship and the buyer has not said where yet."""
        return self.requires_shipping and not self.shipping_line1

    @property
    def net_amount(self) -> int:
        """What the contractor receives: the amount less the platform fee."""
        return self.amount - self.fee_amount

    @property
    def fee_display(self) -> str:
        return format_amount(self.fee_amount, self.currency)


class SavedAddress(models.Model):
    """The address a buyer last shipped to, offered again at their next checkout."""

    buyer = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_address"
    )
    name = models.CharField(max_length=100)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True, default="")
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20, blank=True, default="")
    state = models.CharField(max_length=100, blank=True, default="")
    country = models.CharField(max_length=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "saved addresses"

    def __str__(self) -> str:
        return f"{self.name}, {self.city} ({self.country})"


class OrderItem(models.Model):
    """A line of an order, with the title and price as they were when bought."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True)
    title = models.CharField(max_length=200)
    unit_amount = models.PositiveBigIntegerField()
    quantity = models.PositiveIntegerField()
    # How many were taken off the product's stock for this line (0: unlimited stock).
    stock_reserved = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(unit_amount__gt=0), name="shop_orderitem_unit_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="shop_orderitem_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title}"

    @property
    def line_amount(self) -> int:
        return self.unit_amount * self.quantity
