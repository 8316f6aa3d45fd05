"""Buyers cancel their orders; checkouts nobody pays are canceled by beat."""

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from payments.models import Payment
from shop.models import Order, Product
from shop.services import checkout_create, checkouts_abandon
from shop.tasks import checkouts_abandon_task
from tests.factories import BuyerFactory, ContractorFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cancel_tasks():
    with mock.patch("payments.tasks.payment_cancel_task.delay") as delay:
        yield delay


@pytest.fixture
def board(db):
    seller = ContractorFactory(profile__charges_enabled=True, profile__stripe_id="acct_cx1")
    return ProductFactory(seller=seller, stock=5, title="Oak board")


def order_of(buyer, board, quantity=2, status=Order.Status.PENDING) -> Order:
    checkout_id = checkout_create(buyer=buyer, items=[(board.pk, quantity)])
    order = Order.objects.get(checkout_id=checkout_id)
    Payment.objects.filter(order=order).update(stripe_payment_intent_id=f"pi_{order.pk}")
    if status == Order.Status.AUTHORIZED:
        Payment.objects.filter(order=order).update(status=Payment.Status.AUTHORIZED)
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()
    return order


def stock_of(product) -> int | None:
    return Product.objects.get(pk=product.pk).stock


def cancel_url(order) -> str:
    return reverse("shop:order_cancel", args=[order.public_id])


def test_the_order_page_offers_cancel_and_asks_to_confirm(client, buyer, board):
    order = order_of(buyer, board, status=Order.Status.AUTHORIZED)
    client.force_login(buyer)

    page = client.get(reverse("shop:order_detail", args=[order.public_id])).content.decode()
    assert cancel_url(order) in page

    confirm = client.get(cancel_url(order))
    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Yes, cancel this order" in html
    assert 'method="post"' in html
    assert Order.objects.get(pk=order.pk).status == Order.Status.AUTHORIZED  # GET changes nothing


def test_cancel_an_authorised_order(
    client, buyer, board, cancel_tasks, django_capture_on_commit_callbacks
):
    order = order_of(buyer, board, status=Order.Status.AUTHORIZED)
    payment = Payment.objects.get(order=order)
    client.force_login(buyer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(cancel_url(order), follow=True)

    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == ("canceled", "buyer")
    assert stock_of(board) == 5
    payment.refresh_from_db()
    assert (payment.action, payment.action_reason) == ("cancel", "requested_by_customer")
    cancel_tasks.assert_called_once_with(payment.pk)
    html = response.content.decode()
    assert "The hold on your card is being released." in html
    # The contractor, told of the order when it was authorised, is told it is off.
    kinds = set(Notification.objects.values_list("recipient_id", "kind"))
    assert (order.seller_id, "order_canceled_seller") in kinds
    assert (buyer.pk, "order_canceled") in kinds


def test_cancel_an_unpaid_order_tells_no_one(client, buyer, board):
    order = order_of(buyer, board, status=Order.Status.FAILED)
    client.force_login(buyer)

    response = client.post(cancel_url(order), follow=True)

    assert "Nothing was charged." in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == "canceled"
    assert Payment.objects.get(order=order).action == "cancel"
    assert not Notification.objects.exists()
    assert stock_of(board) == 5
    # The buyer sees it on their list, marked.
    listing = client.get(reverse("shop:order_list")).content.decode()
    assert "Canceled by you" in listing


@pytest.mark.parametrize("status", ["fulfilled", "captured", "expired", "refunded"])
def test_too_late_to_cancel(client, buyer, board, status):
    order = order_of(buyer, board, status=status)
    client.force_login(buyer)
    assert (
        cancel_url(order)
        not in client.get(reverse("shop:order_detail", args=[order.public_id])).content.decode()
    )

    response = client.post(cancel_url(order), follow=True)

    assert "can no longer be canceled" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == status


def test_cancel_twice_is_harmless(client, buyer, board):
    order = order_of(buyer, board)
    client.force_login(buyer)
    client.post(cancel_url(order))
    client.post(cancel_url(order))
    assert stock_of(board) == 5


def test_only_the_buyer_cancels(client, buyer, board):
    order = order_of(buyer, board)
    client.force_login(BuyerFactory())
    assert client.post(cancel_url(order)).status_code == 404
    client.force_login(order.seller)
    assert client.post(cancel_url(order)).status_code == 404
    assert Order.objects.get(pk=order.pk).status == "pending"


def test_cancel_needs_a_post_to_change_anything(client, buyer, board):
    order = order_of(buyer, board)
    client.force_login(buyer)
    assert client.put(cancel_url(order)).status_code == 405
    assert Order.objects.get(pk=order.pk).status == "pending"


def age(order, minutes):
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(minutes=minutes))
    Payment.objects.filter(order=order).update(
        updated_at=timezone.now() - timedelta(minutes=minutes)
    )


def test_abandoned_checkouts_are_canceled_after_the_setting(settings, buyer, board):
    settings.CHECKOUT_ABANDON_MINUTES = 30
    stale = order_of(buyer, board, 1)
    age(stale, 31)
    fresh = order_of(BuyerFactory(), board, 1)
    age(fresh, 29)
    paid = order_of(BuyerFactory(), board, 1, status=Order.Status.AUTHORIZED)
    age(paid, 120)
    tried = order_of(BuyerFactory(), board, 1, status=Order.Status.FAILED)
    age(tried, 120)
    Payment.objects.filter(order=tried).update(updated_at=timezone.now())  # a card just now
    assert stock_of(board) == 1

    assert checkouts_abandon() == 1
    assert checkouts_abandon() == 0

    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {
        stale.pk: "canceled",
        fresh.pk: "pending",
        paid.pk: "authorized",
        tried.pk: "failed",
    }
    assert Order.objects.get(pk=stale.pk).cancel_reason == "abandoned"
    payment = Payment.objects.get(order=stale)
    assert (payment.action, payment.action_reason) == ("cancel", "abandoned")
    assert stock_of(board) == 2


def test_the_beat_task_abandons_and_sweeps(buyer, board):
    stale = order_of(buyer, board, 1)
    age(stale, django_settings.CHECKOUT_ABANDON_MINUTES + 1)
    swept = order_of(BuyerFactory(), board, 2)
    Order.objects.filter(pk=swept.pk).update(status=Order.Status.CANCELED)  # no save()

    assert checkouts_abandon_task() == {"abandoned": 1, "stock_settled": 1}
    assert stock_of(board) == 5


def test_the_task_is_on_beat():
    entries = {e["task"]: e for e in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "shop.tasks.checkouts_abandon_task" in entries
    assert django_settings.CHECKOUT_ABANDON_MINUTES == 60  # the default
