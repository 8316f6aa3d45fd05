"""Read-only queries for the catalogue, buyers' orders and contractors' sales.

Each list loads its related rows in a fixed number of queries (select_related /
prefetch_related), whatever the number of rows; the pages and the API share them.
"""

import uuid

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import User
from payments.models import Payment

from .models import Order, OrderItem, Product

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


def product_is_buyable(product: Product) -> bool:
    """Whether `product` can be put in a cart and paid for (no query once seller__profile
    is loaded)."""
    profile = getattr(product.seller, "profile", None)
    return bool(product.active and profile is not None and profile.can_take_charges)


def _with_seller(products: QuerySet[Product]) -> QuerySet[Product]:
    # Templates show the seller's name (profile → user), so load both in the same query.
    return products.select_related("seller__profile")


def product_list(
    *, search: str = "", seller_id: int | None = None, currency: str = ""
) -> QuerySet[Product]:
    """Buyable products, newest first, optionally matching `search` in title or
    description, by one seller, or in one currency."""
    products = Product.objects.filter(BUYABLE)
    if search:
        products = products.filter(Q(title__icontains=search) | Q(description__icontains=search))
    if seller_id is not None:
        products = products.filter(seller_id=seller_id)
    if currency:
        products = products.filter(currency=currency)
    return _with_seller(products)


def product_get(*, slug: str) -> Product:
    """An active product by slug, buyable or not (raises Product.DoesNotExist)."""
    return _with_seller(Product.objects.filter(active=True)).get(slug=slug)


def product_get_for_cart(*, product_id: int) -> Product:
    """An active product by id, with its seller loaded (raises Product.DoesNotExist)."""
    return _with_seller(Product.objects.filter(active=True)).get(pk=product_id)


def products_for_cart(*, product_ids: list[int]) -> dict[int, Product]:
    """The products with these ids that still exist, active or not, in one query."""
    if not product_ids:
        return {}
    return {p.pk: p for p in _with_seller(Product.objects.filter(pk__in=product_ids))}


def _with_details(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.select_related("seller__profile", "buyer__profile").prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("pk")),
        "payments",  # newest first (Payment.Meta.ordering): the first is the current one
    )


def order_list(
    *, buyer: User, status: str = "", checkout_id: uuid.UUID | None = None
) -> QuerySet[Order]:
    """The buyer's own orders, newest first."""
    orders = Order.objects.filter(buyer=buyer)
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
    """The current (newest) payment of each of the buyer's orders in this checkout, by
    order; empty for a checkout that is not theirs."""
    payments = (
        Payment.objects.filter(order__checkout_id=checkout_id, order__buyer=buyer)
        .select_related("order__seller__profile")
        .order_by("order_id", "-created_at", "-id")
    )
    latest: dict[int, Payment] = {}
    for payment in payments:
        latest.setdefault(payment.order_id, payment)
    return list(latest.values())


def sale_list(*, seller: User, status: str = "") -> QuerySet[Order]:
    """The contractor's own sales, newest first."""
    orders = Order.objects.filter(seller=seller)
    if status:
        orders = orders.filter(status=status)
    return _with_details(orders)


def sale_get(*, seller: User, public_id: uuid.UUID) -> Order:
    """One of the contractor's sales (raises Order.DoesNotExist for anyone else's)."""
    return _with_details(Order.objects.filter(seller=seller)).get(public_id=public_id)
