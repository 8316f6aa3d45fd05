"""Buyers see only their orders; contractors only their sales, and fulfil them."""

from unittest import mock

import pytest
from django.urls import reverse

from payments.models import Payment
from shop.models import Order
from tests.factories import BuyerFactory, OrderItemFactory, PaymentFactory

pytestmark = pytest.mark.django_db


def test_buyer_sees_own_orders_only(client):
    mine = OrderItemFactory(title="Mine").order
    OrderItemFactory(title="Theirs")
    client.force_login(mine.buyer)

    page = client.get(reverse("shop:order_list")).content.decode()

    assert "Mine" in page
    assert "Theirs" not in page
    assert client.get(reverse("shop:order_detail", args=[mine.public_id])).status_code == 200
    client.force_login(BuyerFactory())
    assert client.get(reverse("shop:order_detail", args=[mine.public_id])).status_code == 404


def test_order_list_queries_do_not_grow_with_orders(client, django_assert_max_num_queries):
    buyer = BuyerFactory()
    for _ in range(3):
        OrderItemFactory(order__buyer=buyer)
    client.force_login(buyer)
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("shop:order_list"))
    for _ in range(15):
        OrderItemFactory(order__buyer=buyer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("shop:order_list"))


def authorised_order():
    payment = PaymentFactory(status=Payment.Status.AUTHORIZED, amount_authorized=2500)
    Order.objects.filter(pk=payment.order_id).update(status=Order.Status.AUTHORIZED)
    return payment


def test_contractor_fulfils_and_the_capture_is_enqueued_after_commit(
    client, django_capture_on_commit_callbacks
):
    payment = authorised_order()
    order = payment.order
    client.force_login(order.seller)

    url = reverse("shop:sales_fulfil", args=[order.public_id])
    with (
        mock.patch("payments.tasks.payment_capture_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(url)
    assert response.status_code == 302
    delay.assert_called_once_with(payment.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert order.fulfilled_at is not None  # the date dispute evidence states


def test_fulfilling_an_unpaid_order_is_refused(client):
    order = PaymentFactory().order
    client.force_login(order.seller)
    with mock.patch("payments.tasks.payment_capture_task.delay") as delay:
        response = client.post(reverse("shop:sales_fulfil", args=[order.public_id]), follow=True)
    assert "cannot be fulfilled" in response.content.decode()
    delay.assert_not_called()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_other_contractors_cannot_fulfil_or_see_a_sale(client, contractor):
    payment = authorised_order()
    client.force_login(contractor)
    url = reverse("shop:sales_fulfil", args=[payment.order.public_id])
    assert client.post(url).status_code == 404
    assert payment.order.buyer.email not in client.get(reverse("shop:sales_list")).content.decode()


def test_sales_list_shows_what_the_contractor_gets(client):
    payment = authorised_order()
    client.force_login(payment.order.seller)
    page = client.get(reverse("shop:sales_list")).content.decode()
    assert "$25.00" in page  # amount
    assert "$2.80" in page  # platform fee
    assert "$22.20" in page  # amount − fee
    assert "Mark fulfilled" in page


def test_sales_list_filters_by_status_and_ignores_an_unknown_one(client):
    payment = authorised_order()
    seller = payment.order.seller
    OrderItemFactory(order__seller=seller, title="Still pending")
    client.force_login(seller)

    def buyers(status):
        page = client.get(reverse("shop:sales_list"), {"status": status}).context["page"]
        return {order.pk for order in page.object_list}

    pending = Order.objects.get(seller=seller, status=Order.Status.PENDING)
    assert buyers("authorized") == {payment.order_id}
    assert buyers("pending") == {pending.pk}
    assert buyers("lost") == buyers("") == {payment.order_id, pending.pk}


def test_a_service_fulfilled_with_a_tracking_number_keeps_none():
    from shop.services import order_fulfil

    payment = authorised_order()
    order = payment.order
    assert not order.requires_shipping
    order_fulfil(order_id=order.pk, seller=order.seller, carrier="UPS", tracking_number="1Z9")
    order.refresh_from_db()
    assert (order.carrier, order.tracking_number) == ("", "")
