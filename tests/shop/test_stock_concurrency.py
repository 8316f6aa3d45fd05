"""No oversell: 20 buyers check out the last 5 items at the same moment, each in its own
thread with its own database connection, on PostgreSQL (where rows are really locked
and transactions really run side by side; SQLite takes one writer at a time)."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from shop.models import Order, OrderItem, Product
from shop.services import CheckoutError, checkout_cancel, checkout_create
from tests.factories import BuyerFactory, ContractorFactory, ProductFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"
    ),
]

BUYERS = 20
STOCK = 5


def run_at_once(work, count: int) -> list:
    """`work(i)` in `count` threads released together; returns each result or exception."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def last_items():
    seller = ContractorFactory(profile__charges_enabled=True, profile__stripe_id="acct_race")
    return ProductFactory(seller=seller, stock=STOCK, title="Last mugs")


def outcomes(results) -> Counter:
    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, CheckoutError)
    ]
    assert not unexpected, unexpected
    return Counter("bought" if not isinstance(r, Exception) else "refused" for r in results)


def test_twenty_buyers_five_items_never_oversold(last_items):
    buyers = [BuyerFactory() for _ in range(BUYERS)]

    results = run_at_once(
        lambda i: checkout_create(buyer=buyers[i], items=[(last_items.pk, 1)]), BUYERS
    )

    assert outcomes(results) == {"bought": STOCK, "refused": BUYERS - STOCK}
    assert Product.objects.get(pk=last_items.pk).stock == 0
    assert Order.objects.count() == STOCK
    assert sum(OrderItem.objects.values_list("stock_reserved", flat=True)) == STOCK
    refusal = next(r for r in results if isinstance(r, CheckoutError))
    assert "“Last mugs” is sold out" in str(refusal)


def test_buyers_wanting_two_each_and_others_giving_back_at_once(last_items):
    """Half the threads give their checkout back while the other half buy: the stock
    always adds up, whatever the interleaving."""
    holders = [BuyerFactory() for _ in range(STOCK)]
    held = [checkout_create(buyer=b, items=[(last_items.pk, 1)]) for b in holders]
    assert Product.objects.get(pk=last_items.pk).stock == 0
    buyers = [BuyerFactory() for _ in range(BUYERS - STOCK)]

    def work(i: int):
        if i < STOCK:
            return checkout_cancel(buyer=holders[i], checkout_id=held[i], reason="abandoned")
        return checkout_create(buyer=buyers[i - STOCK], items=[(last_items.pk, 2)])

    results = run_at_once(work, BUYERS)

    bought = sum(1 for r in results[STOCK:] if not isinstance(r, Exception))
    assert outcomes(results[STOCK:])["bought"] == bought
    assert all(r == 1 for r in results[:STOCK])
    left = Product.objects.get(pk=last_items.pk).stock
    assert left == STOCK - 2 * bought >= 0
    held_now = sum(
        OrderItem.objects.filter(order__stock_held=True).values_list("stock_reserved", flat=True)
    )
    assert held_now + left == STOCK
