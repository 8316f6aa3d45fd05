"""Stock: taken when a checkout is made, given back when it ends unpaid, kept when sold."""

from unittest import mock

import pytest
from django.db import IntegrityError, transaction

from core.statemachine import transition
from payments.models import Payment
from payments.services.intents import payment_apply_intent
from shop import stock
from shop.models import Order, Product
from shop.services import (
    CheckoutError,
    checkout_cancel,
    checkout_create,
    order_cancel,
    order_fulfil,
)
from tests.factories import ContractorFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker():
    with (
        mock.patch("payments.tasks.payment_cancel_task.delay"),
        mock.patch("payments.tasks.payment_capture_task.delay"),
    ):
        yield


def product(stock_left=None, n=1, **fields):
    seller = ContractorFactory(profile__charges_enabled=True, profile__stripe_id=f"acct_st{n}")
    return ProductFactory(seller=seller, stock=stock_left, **fields)


def stock_of(item) -> int | None:
    return Product.objects.get(pk=item.pk).stock


def test_a_checkout_takes_its_quantities_and_records_them(buyer):
    mug, service = product(5, 1), product(None, 2)

    checkout_id = checkout_create(buyer=buyer, items=[(mug.pk, 2), (service.pk, 3)])

    assert stock_of(mug) == 3
    assert stock_of(service) is None  # no limit: nothing taken
    orders = {o.seller_id: o for o in Order.objects.filter(checkout_id=checkout_id)}
    assert orders[mug.seller_id].stock_held
    assert not orders[service.seller_id].stock_held
    assert orders[mug.seller_id].items.get().stock_reserved == 2
    assert orders[service.seller_id].items.get().stock_reserved == 0


@pytest.mark.parametrize(
    ("left", "wanted", "message"),
    [
        (0, 1, "is sold out"),
        (2, 3, "Only 2 of “Mug” left."),
    ],
)
def test_more_than_is_left_refuses_the_whole_checkout(buyer, left, wanted, message):
    mug = product(left, 1, title="Mug")
    board = product(10, 2, title="Board")

    with pytest.raises(CheckoutError, match=message):
        checkout_create(buyer=buyer, items=[(board.pk, 1), (mug.pk, wanted)])

    assert (stock_of(mug), stock_of(board)) == (left, 10)  # the board's take rolled back
    assert not Order.objects.exists()


def test_the_same_cart_again_takes_nothing_more(buyer):
    mug = product(5)
    first = checkout_create(buyer=buyer, items=[(mug.pk, 2)])
    assert checkout_create(buyer=buyer, items=[(mug.pk, 2)]) == first
    assert stock_of(mug) == 3


def test_a_replaced_checkout_gives_its_stock_back_before_the_new_one_takes(buyer):
    mug = product(2)
    first = checkout_create(buyer=buyer, items=[(mug.pk, 2)])
    assert stock_of(mug) == 0

    # The last two were the buyer's own: the new checkout of one can have one of them.
    second = checkout_create(buyer=buyer, items=[(mug.pk, 1)], replaces=first)

    assert second != first
    assert stock_of(mug) == 1
    old = Order.objects.get(checkout_id=first)
    assert (old.status, old.cancel_reason, old.stock_held) == ("canceled", "replaced", False)


def test_buyer_cancel_gives_stock_back_once(buyer):
    mug = product(3)
    checkout_id = checkout_create(buyer=buyer, items=[(mug.pk, 2)])
    order = Order.objects.get(checkout_id=checkout_id)

    order_cancel(order_id=order.pk, buyer=buyer)
    order_cancel(order_id=order.pk, buyer=buyer)  # twice: nothing more

    assert stock_of(mug) == 3
    assert stock.order_stock_release(order_id=order.pk) is False


def test_an_intent_canceled_at_stripe_gives_stock_back_through_the_status_change(buyer):
    """payments' own path (a webhook, staff's cancel, expiry) moves the order with
    transition_locked: Order.save settles the stock, no call from payments needed."""
    mug = product(4)
    checkout_id = checkout_create(buyer=buyer, items=[(mug.pk, 1)])
    payment = Payment.objects.get(order__checkout_id=checkout_id)
    Payment.objects.filter(pk=payment.pk).update(
        stripe_payment_intent_id="pi_st", status=Payment.Status.AUTHORIZED
    )
    Order.objects.filter(checkout_id=checkout_id).update(status=Order.Status.AUTHORIZED)
    assert stock_of(mug) == 3

    payment_apply_intent(
        {"id": "pi_st", "status": "canceled", "cancellation_reason": "abandoned", "amount": 2500}
    )

    order = Order.objects.get(checkout_id=checkout_id)
    assert order.status == Order.Status.EXPIRED
    assert stock_of(mug) == 4
    assert not order.stock_held


def test_a_fulfilled_order_keeps_its_stock_sold_even_if_the_capture_fails(buyer):
    mug = product(4)
    checkout_id = checkout_create(buyer=buyer, items=[(mug.pk, 1)])
    order = Order.objects.get(checkout_id=checkout_id)
    Payment.objects.filter(order=order).update(status=Payment.Status.AUTHORIZED)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.AUTHORIZED)

    order_fulfil(order_id=order.pk, seller=order.seller)
    order.refresh_from_db()
    assert not order.stock_held
    with transaction.atomic():
        transition(Order, order.pk, Order.Status.EXPIRED)  # the authorisation ran out

    assert stock_of(mug) == 3  # delivered: not for sale again


def test_the_sweep_settles_a_status_written_without_save(buyer):
    mug = product(4)
    checkout_id = checkout_create(buyer=buyer, items=[(mug.pk, 3)])
    Order.objects.filter(checkout_id=checkout_id).update(status=Order.Status.CANCELED)
    assert stock_of(mug) == 1

    assert stock.stock_sweep() == 1
    assert stock.stock_sweep() == 0
    assert stock_of(mug) == 4


def test_a_product_made_unlimited_meanwhile_stays_unlimited(buyer):
    mug = product(4)
    checkout_id = checkout_create(buyer=buyer, items=[(mug.pk, 1)])
    Product.objects.filter(pk=mug.pk).update(stock=None)

    checkout_cancel(buyer=buyer, checkout_id=checkout_id, reason="replaced")

    assert stock_of(mug) is None


def test_a_deleted_product_does_not_stop_the_release(buyer):
    mug, board = product(4, 1), product(4, 2)
    checkout_id = checkout_create(buyer=buyer, items=[(mug.pk, 1), (board.pk, 2)])
    order = Order.objects.get(checkout_id=checkout_id, seller=board.seller)
    order.items.update(product=None)

    checkout_cancel(buyer=buyer, checkout_id=checkout_id, reason="abandoned")

    assert stock_of(mug) == 4
    assert stock_of(board) == 2  # its line lost its product: nothing to give back to


def test_stock_never_goes_below_zero_in_the_database():
    mug = product(1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=mug.pk).update(stock=-1)
