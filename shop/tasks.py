"""Celery tasks of the shop: periodic tidying of checkouts nobody paid."""

from celery import shared_task

from . import services, stock


@shared_task
def checkouts_abandon_task() -> dict[str, int]:
    """Cancel checkouts left unpaid for CHECKOUT_ABANDON_MINUTES (their intents are
    canceled by the outbox, their stock given back), then settle the stock of any
    order whose status ended its hold without passing through `Order.save`.

    Runs on beat; running twice at once is harmless (rows are locked, and each
    cancellation and release happens once)."""
    return {
        "abandoned": services.checkouts_abandon(),
        "stock_settled": stock.stock_sweep(),
    }
