"""Stock: taken off a product when a checkout is made, given back when it ends unpaid.

`Product.stock` is what is left to sell (None: no limit). A checkout takes its
quantities off with one conditional UPDATE per product (`stock = stock - n WHERE
stock >= n`): the database applies them one at a time, so two buyers can never both
take the last item, and nobody waits on a lock held across a page. Each line records
what it took (`OrderItem.stock_reserved`) and the order says it holds stock
(`Order.stock_held`); the hold ends once, whichever way the order goes:

- canceled or expired (the buyer canceled, the cart changed, the checkout was
  abandoned, the authorisation was canceled or ran out): the quantities go back;
- fulfilled or captured: they stay sold.

`Order.save` calls `order_stock_settle` on every status change, in the transaction
that made it; `stock_sweep` (beat) settles any order whose status was written
some other way.
"""

import logging
from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import F

from .models import Order, OrderItem, Product

logger = logging.getLogger(__name__)

# Statuses that end the hold: the stock goes back, or stays sold.
STOCK_RETURNED = frozenset({Order.Status.CANCELED, Order.Status.EXPIRED})
STOCK_SOLD = frozenset(
    {
        Order.Status.FULFILLED,
        Order.Status.CAPTURED,
        Order.Status.PARTIALLY_REFUNDED,
        Order.Status.REFUNDED,
    }
)


class OutOfStock(Exception):
    """Fewer items are left than the checkout asks for; the message is for the buyer."""

    def __init__(self, product: Product, left: int):
        self.product = product
        self.left = left
        if left <= 0:
            message = f"“{product.title}” is sold out. Remove it from your cart to check out."
        else:
            message = (
                f"Only {left} of “{product.title}” left. "
                "Lower the quantity in your cart to check out."
            )
        super().__init__(message)


def stock_take(quantities: Mapping[int, int], products: Mapping[int, Product]) -> dict[int, int]:
    """Take `quantities` ({product id: n}) off the products' stock; returns what was
    taken per product (unlimited products take nothing). Call inside the checkout's
    transaction: OutOfStock rolls every line back with it.

    Products are updated in id order, so two checkouts of the same products lock
    their rows in the same order and never deadlock.
    """
    taken: dict[int, int] = {}
    for pk in sorted(quantities):
        wanted = quantities[pk]
        taken_rows = Product.objects.filter(pk=pk, stock__gte=wanted).update(
            stock=F("stock") - wanted
        )
        if taken_rows:
            taken[pk] = wanted
            continue
        # Not enough, or no limit (NULL >= n is not true): read which.
        left = Product.objects.filter(pk=pk).values_list("stock", flat=True).first()
        if left is not None:
            raise OutOfStock(products[pk], left)
    return taken


def stock_lock(product_ids: Iterable[int | None]) -> None:
    """Lock the rows of these products that have a stock limit, in id order (inside
    the caller's transaction, after any order rows it locks).

    A transaction that both gives stock back and takes some (a cart's checkout
    replacing the one before) takes every product lock it needs first, in one order
    shared by every checkout, so no two of them wait on each other crosswise.
    Products without a limit are never locked: popular services do not queue.
    """
    ids = sorted({pk for pk in product_ids if pk is not None})
    if ids:
        list(
            Product.objects.select_for_update()
            .filter(pk__in=ids, stock__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def order_stock_settle(order: Order) -> bool:
    """End the order's hold on stock if its status says so: give the quantities back
    (canceled, expired) or keep them sold (fulfilled, captured). Returns whether the
    hold ended now. Idempotent: the hold ends once, under a conditional UPDATE."""
    if order.status in STOCK_RETURNED:
        return order_stock_release(order_id=order.pk)
    if order.status in STOCK_SOLD:
        ended = Order.objects.filter(pk=order.pk, stock_held=True).update(stock_held=False)
        order.stock_held = False
        return bool(ended)
    return False


def order_stock_release(*, order_id: int) -> bool:
    """Give the order's reserved quantities back to their products, once; returns
    whether anything was given back now.

    Called by `Order.save` when an order is canceled or expires. Code that changes an
    order's status without `save()` (a queryset `.update()`) must call this itself.
    A product made unlimited meanwhile stays unlimited.
    """
    with transaction.atomic():
        if not Order.objects.filter(pk=order_id, stock_held=True).update(stock_held=False):
            return False
        lines = (
            OrderItem.objects.filter(order_id=order_id, stock_reserved__gt=0)
            .filter(product__isnull=False)
            .order_by("product_id")
            .values_list("product_id", "stock_reserved")
        )
        for product_id, quantity in lines:
            Product.objects.filter(pk=product_id, stock__isnull=False).update(
                stock=F("stock") + quantity
            )
    logger.info("Order %s gave its stock back", order_id)
    return True


def stock_sweep() -> int:
    """Settle every order whose status ended its hold but which still holds stock
    (its status was written without `Order.save`); returns how many. Runs on beat."""
    stale = Order.objects.filter(stock_held=True, status__in=[*STOCK_RETURNED, *STOCK_SOLD]).only(
        "pk", "status", "stock_held"
    )
    settled = 0
    for order in stale[:500]:
        settled += order_stock_settle(order)
    if settled:
        logger.warning("Settled the stock of %d orders their status change missed", settled)
    return settled


def stock_held_for(order_ids: Iterable[int]) -> dict[int, int]:
    """{product id: quantity} these orders still hold: what their buyer may count as
    theirs (their own open checkout took it) when the cart is checked against stock."""
    held: dict[int, int] = {}
    rows = OrderItem.objects.filter(
        order_id__in=list(order_ids), order__stock_held=True, stock_reserved__gt=0
    ).values_list("product_id", "stock_reserved")
    for product_id, quantity in rows:
        if product_id is not None:
            held[product_id] = held.get(product_id, 0) + quantity
    return held
