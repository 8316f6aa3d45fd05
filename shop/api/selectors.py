"""Read-only queries for the API: the shared ones from `shop.selectors` and
`accounts.selectors` (the pages use the same), plus the few only the API needs."""

import uuid

from accounts.selectors import balance_list  # noqa: F401 - the API's views read it from here
from shop.models import Order
from shop.selectors import (  # noqa: F401 - the API's views read them from here
    order_get,
    order_is_payable,
    order_list,
    order_payment,
    product_list,
    sale_get,
    sale_list,
)


def order_get_for_staff(*, public_id: uuid.UUID) -> Order:
    """Any order, with its payments (raises Order.DoesNotExist)."""
    return Order.objects.prefetch_related("payments").get(public_id=public_id)
