"""Read-only queries for the API: the shared ones from `shop.selectors`, plus the
few only the API needs."""

import uuid

from accounts.models import User
from payments.models import BalanceSnapshot, Payment
from shop.models import Order
from shop.selectors import (  # noqa: F401 - the API's views read them from here
    order_get,
    order_list,
    product_list,
    sale_get,
    sale_list,
)

# Statuses in which a buyer still has to pay: a PaymentIntent client secret is useful.
PAYABLE_ORDER_STATUSES = frozenset({Order.Status.PENDING, Order.Status.FAILED})
PAYABLE_PAYMENT_STATUSES = frozenset({Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION})


def order_get_for_staff(*, public_id: uuid.UUID) -> Order:
    """Any order, with its payments (raises Order.DoesNotExist)."""
    return Order.objects.prefetch_related("payments").get(public_id=public_id)


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


def balance_list(*, contractor: User) -> list[BalanceSnapshot]:
    """The contractor's last-read Stripe balances, one per currency."""
    return list(BalanceSnapshot.objects.filter(contractor=contractor).order_by("currency"))
