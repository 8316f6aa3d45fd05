"""Read-only queries for the catalogue, buyers' orders and contractors' sales.

Each list loads its related rows in a fixed number of queries (select_related /
prefetch_related), whatever the number of rows; the pages and the API share them.
"""

import uuid
from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery, prefetch_related_objects

from accounts.models import User
from payments.models import Dispute, Payment, Transfer

from .models import Category, ListingStatus, Order, OrderItem, Product, ProductPhoto, Storefront

# A product can be bought when it is listed and its contractor's connected account can take
# charges: without charges_enabled and an acct_… id there is no destination for the payment.
# Product.seller_can_charge is the product's copy of the second half. `product_is_buyable`
# is the same rule in Python, read from the profile, for rows that are already loaded.
BUYABLE = Q(active=True, seller_can_charge=True)

# Statuses in which a buyer still has to pay: a PaymentIntent client secret is useful.
PAYABLE_ORDER_STATUSES = frozenset({Order.Status.PENDING, Order.Status.FAILED})
PAYABLE_PAYMENT_STATUSES = frozenset({Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION})
# A payment in these statuses is paid as far as the buyer is concerned (held or taken).
PAID_PAYMENT_STATUSES = frozenset({Payment.Status.AUTHORIZED, Payment.Status.CAPTURED})
# Orders that ended without a purchase: nothing is left to pay or to deliver.
CLOSED_ORDER_STATUSES = frozenset({Order.Status.CANCELED, Order.Status.EXPIRED})
# Orders the buyer may cancel from the order page (shop.services.order_cancel).
BUYER_CANCELABLE_STATUSES = frozenset({*PAYABLE_ORDER_STATUSES, Order.Status.AUTHORIZED})


def product_is_buyable(product: Product) -> bool:
    """Whether `product` can be put in a cart and paid for (no query once seller__profile
    is loaded)."""
    profile = getattr(product.seller, "profile", None)
    return bool(product.active and profile is not None and profile.can_take_charges)


# The catalogue's sort orders (the `sort` parameter) → ORDER BY; `id` breaks ties.
SORTS = {
    "newest": ("-created_at", "-id"),
    # By price within each currency, currencies one after the other: minor units of
    # two currencies are not comparable ($10.00 is 1000, ¥1,500 is 1500).
    "price_asc": ("currency", "price_amount", "id"),
    "price_desc": ("-currency", "-price_amount", "-id"),  # the index read backwards
}
SORT_LABELS = {
    "newest": "Newest",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
}
# A search also finds the products of shops whose name matches, up to this many shops.
MAX_SHOPS_SEARCHED = 1000


def _with_seller(products: QuerySet[Product]) -> QuerySet[Product]:
    # Templates show the seller's name and shop (profile, storefront): the same query.
    return products.select_related("seller__profile", "seller__storefront")


def _with_cover(products: QuerySet[Product]) -> QuerySet[Product]:
    """Each product's first photo's thumbnail and alt text (Product.cover), read by
    subqueries in the list's own query rather than one more query per page."""
    first = ProductPhoto.objects.filter(product=OuterRef("pk")).order_by("position", "id")
    return products.annotate(
        cover_thumbnail=Subquery(first.values("thumbnail")[:1]),
        cover_alt=Subquery(first.values("alt_text")[:1]),
    )


def items_with_covers(orders: list[Order]) -> None:
    """Load `orders`' items in order, each product with its first photo (`cover`):
    two queries however many orders and items (the pay page, the order emails). An
    item whose product was deleted has no product, so no photo."""
    prefetch_related_objects(
        orders,
        Prefetch("items", queryset=OrderItem.objects.order_by("pk")),
        Prefetch("items__product", queryset=_with_cover(Product.objects.all())),
    )


def _search(products: QuerySet[Product], search: str) -> QuerySet[Product]:
    matches = Q(title__icontains=search) | Q(description__icontains=search)
    # The matching shops' sellers are read first, as a list of ids: `seller_id IN (…)`
    # is one more index in the OR, where a subquery there would make PostgreSQL test
    # every product instead of combining the trigram indexes (bench/README.md).
    sellers = list(
        Storefront.objects.filter(name__icontains=search).values_list("seller_id", flat=True)[
            :MAX_SHOPS_SEARCHED
        ]
    )
    if sellers:
        matches |= Q(seller_id__in=sellers)
    return products.filter(matches)


def product_list(
    *,
    search: str = "",
    seller_id: int | None = None,
    currency: str = "",
    category: str = "",
    sort: str = "newest",
) -> QuerySet[Product]:
    """Buyable products, optionally matching `search` in title, description or shop
    name, by one seller, in one currency or in one category (slug), in a SORTS order.

    Sorted by price, a list in several currencies is grouped by currency, each in
    price order (filter by currency to compare prices across the whole list).
    """
    products = Product.objects.filter(BUYABLE)
    if search:
        products = _search(products, search)
    if seller_id is not None:
        products = products.filter(seller_id=seller_id)
    if currency:
        products = products.filter(currency=currency)
    if category:
        products = products.filter(category__slug=category)
    return _with_cover(_with_seller(products)).order_by(*SORTS.get(sort, SORTS["newest"]))


def _with_photos(products: QuerySet[Product]) -> QuerySet[Product]:
    return products.prefetch_related(
        Prefetch("photos", queryset=ProductPhoto.objects.order_by("position", "id"))
    )


def product_get(*, slug: str) -> Product:
    """An active product by slug, buyable or not, with its photos (raises
    Product.DoesNotExist)."""
    return _with_photos(_with_seller(Product.objects.filter(active=True))).get(slug=slug)


def product_get_for_cart(*, product_id: int) -> Product:
    """An active product by id, with its seller loaded (raises Product.DoesNotExist)."""
    return _with_seller(Product.objects.filter(active=True)).get(pk=product_id)


def products_for_cart(*, product_ids: list[int]) -> dict[int, Product]:
    """The products with these ids that still exist, active or not, in one query."""
    if not product_ids:
        return {}
    products = _with_cover(_with_seller(Product.objects.filter(pk__in=product_ids)))
    return {p.pk: p for p in products}


def category_list() -> list[Category]:
    """Every category, in the staff's order."""
    return list(Category.objects.all())


# --- Sellers' own products and shops ------------------------------------------------

LISTING_FILTERS = {
    ListingStatus.LIVE: Q(active=True),
    ListingStatus.PAUSED: Q(active=False, archived_at__isnull=True),
    ListingStatus.ARCHIVED: Q(archived_at__isnull=False),
}


def seller_product_list(
    *, seller: User, status: str = "", archived: bool | None = None
) -> QuerySet[Product]:
    """The seller's own products in any state, or in one ListingStatus, or only the
    archived (or not archived) ones; newest first."""
    products = Product.objects.filter(seller=seller)
    if status:
        products = products.filter(LISTING_FILTERS[ListingStatus(status)])
    if archived is not None:
        products = products.filter(archived_at__isnull=not archived)
    return _with_photos(products.select_related("category")).order_by("-created_at", "-id")


def seller_product_get(*, seller: User, product_id: int) -> Product:
    """One of the seller's own products, with its photos (raises Product.DoesNotExist
    for anyone else's: the pages and the API answer 404, not 403)."""
    products = Product.objects.filter(seller=seller).select_related("category", "seller")
    return _with_photos(products).get(pk=product_id)


def seller_photo_get(*, seller: User, product_id: int, photo_id: int) -> ProductPhoto:
    """One photo of one of the seller's products (raises ProductPhoto.DoesNotExist)."""
    return ProductPhoto.objects.select_related("product").get(
        pk=photo_id, product_id=product_id, product__seller=seller
    )


def storefront_get(*, slug: str) -> Storefront:
    """A shop by its address, with its seller's profile (raises Storefront.DoesNotExist)."""
    return Storefront.objects.select_related("seller__profile").get(slug=slug)


def storefront_of(*, seller: User) -> Storefront | None:
    """The seller's shop, if they have one yet."""
    return Storefront.objects.filter(seller=seller).first()


def _with_details(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.select_related("seller__profile", "buyer__profile").prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("pk")),
        "payments",  # newest first (Payment.Meta.ordering): the first is the current one
    )


def order_list(
    *, buyer: User, status: str = "", checkout_id: uuid.UUID | None = None
) -> QuerySet[Order]:
    """The buyer's own orders, newest first; not those of a checkout that a changed
    cart replaced (never a purchase of their own: the newer checkout is)."""
    orders = Order.objects.filter(buyer=buyer).exclude(cancel_reason=Order.CancelReason.REPLACED)
    if status:
        orders = orders.filter(status=status)
    if checkout_id is not None:
        orders = orders.filter(checkout_id=checkout_id)
    return _with_details(orders)


def order_get(*, buyer: User, public_id: uuid.UUID) -> Order:
    """One of the buyer's orders (raises Order.DoesNotExist for anyone else's)."""
    return _with_details(Order.objects.filter(buyer=buyer)).get(public_id=public_id)


def order_payment(order: Order) -> Payment | None:
    """The order's current payment: the newest (uses the prefetched rows)."""
    payments = list(order.payments.all())
    return payments[0] if payments else None


def order_is_payable(order: Order, payment: Payment | None) -> bool:
    """Whether the buyer still has to confirm a card for this order."""
    return (
        payment is not None
        and order.status in PAYABLE_ORDER_STATUSES
        and payment.status in PAYABLE_PAYMENT_STATUSES
    )


def checkout_payment_list(*, buyer: User, checkout_id: uuid.UUID) -> list[Payment]:
    """The current (newest) payment of each of the buyer's orders in this checkout that
    is still on (not canceled nor expired), by order; empty for a checkout that is not
    theirs, or is over."""
    payments = (
        Payment.objects.filter(order__checkout_id=checkout_id, order__buyer=buyer)
        .exclude(order__status__in=CLOSED_ORDER_STATUSES)
        .select_related("order__seller__profile")
        .order_by("order_id", "-created_at", "-id")
    )
    latest: dict[int, Payment] = {}
    for payment in payments:
        latest.setdefault(payment.order_id, payment)
    return list(latest.values())


@dataclass(frozen=True)
class CheckoutLines:
    """One checkout of the buyer's, as its cart needs it: what is bought, what is open."""

    exists: bool
    unpaid: bool  # some order still waits for the card
    paid: dict[int, int]  # {product id: quantity} of its paid orders (authorised or further)


def checkout_lines(*, buyer: User, checkout_id: uuid.UUID) -> CheckoutLines:
    """Where one of the buyer's checkouts stands, in one query."""
    rows = OrderItem.objects.filter(order__buyer=buyer, order__checkout_id=checkout_id).values_list(
        "order__status", "product_id", "quantity"
    )
    paid: dict[int, int] = {}
    unpaid = exists = False
    for status, product_id, quantity in rows:
        exists = True
        if status in PAYABLE_ORDER_STATUSES:
            unpaid = True
        elif status not in CLOSED_ORDER_STATUSES and product_id is not None:
            paid[product_id] = paid.get(product_id, 0) + quantity
    return CheckoutLines(exists=exists, unpaid=unpaid, paid=paid)


def checkout_closed(*, buyer: User, checkout_id: uuid.UUID) -> Order | None:
    """An order of the buyer's checkout when every one of them is over (canceled,
    expired), else None: the pay page says why instead of a 404."""
    orders = list(Order.objects.filter(buyer=buyer, checkout_id=checkout_id).order_by("-pk"))
    if orders and all(order.status in CLOSED_ORDER_STATUSES for order in orders):
        return orders[0]
    return None


def sale_list(*, seller: User, status: str = "") -> QuerySet[Order]:
    """The contractor's own sales, newest first (not the orders of checkouts a changed
    cart replaced: the newer checkout's are the sale)."""
    orders = Order.objects.filter(seller=seller).exclude(cancel_reason=Order.CancelReason.REPLACED)
    if status:
        orders = orders.filter(status=status)
    return _with_details(orders)


def sale_get(*, seller: User, public_id: uuid.UUID) -> Order:
    """One of the contractor's sales (raises Order.DoesNotExist for anyone else's)."""
    return _with_details(Order.objects.filter(seller=seller)).get(public_id=public_id)


@dataclass(frozen=True)
class SaleMoney:
    """What the contractor is told about being paid for a sale: a dispute of its
    charge, and the transfer of a checkout's charge (None for a destination charge,
    which pays at capture)."""

    dispute: Dispute | None
    transfer: Transfer | None


def sale_money(order: Order) -> SaleMoney:
    payment = order.payments.exclude(stripe_charge_id="").order_by("-pk").first()
    if payment is None:
        return SaleMoney(dispute=None, transfer=None)
    dispute = (
        Dispute.objects.filter(stripe_charge_id=payment.stripe_charge_id).order_by("pk").last()
    )
    return SaleMoney(dispute=dispute, transfer=Transfer.objects.filter(payment=payment).first())
