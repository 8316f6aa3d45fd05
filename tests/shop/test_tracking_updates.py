"""Tracking of shipped goods: the sales list sends the seller of goods that ship to the
sale's page to fulfil (where the carrier and tracking number are asked for), services
keep their one-click button, and a fulfilled sale's tracking can be added or corrected
later (shop.tracking), the buyer told of each change."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from notifications.models import Notification
from payments.models import Payment
from shop.models import Order
from shop.tracking import TrackingRefused, order_tracking_update
from tests.factories import ContractorFactory, OrderItemFactory, PaymentFactory

pytestmark = pytest.mark.django_db


def sale(status=Order.Status.AUTHORIZED, *, ships=True, **fields) -> Order:
    payment = PaymentFactory(status=Payment.Status.AUTHORIZED, amount_authorized=2500)
    OrderItemFactory(order=payment.order, title="Oak board")
    Order.objects.filter(pk=payment.order_id).update(
        status=status,
        requires_shipping=ships,
        shipping_name="Ada Lovelace",
        shipping_line1="350 Fifth Avenue",
        shipping_city="New York",
        shipping_postal_code="10118",
        shipping_state="NY",
        shipping_country="US",
        **fields,
    )
    return Order.objects.get(pk=payment.order_id)


def tracking_notices(order) -> list[Notification]:
    return list(Notification.objects.filter(recipient=order.buyer, kind="order_tracking"))


# --- The sales list -----------------------------------------------------------------


def test_goods_that_ship_are_fulfilled_from_the_sale_page_services_in_one_click(client):
    goods = sale()
    service = sale(ships=False)
    Order.objects.filter(pk=service.pk).update(seller=goods.seller)
    client.force_login(goods.seller)

    page = client.get(reverse("shop:sales_list")).content.decode()

    detail = reverse("shop:sale_detail", args=[goods.public_id])
    assert f'href="{detail}#fulfil">Add tracking and fulfil</a>' in page
    assert reverse("shop:sales_fulfil", args=[goods.public_id]) not in page
    assert reverse("shop:sales_fulfil", args=[service.public_id]) in page
    assert page.count("Mark fulfilled") == 1  # the service's button only
    sale_page = client.get(detail).content.decode()
    assert 'id="fulfil"' in sale_page
    assert 'name="tracking_number"' in sale_page


def test_no_fulfil_link_once_the_goods_are_fulfilled(client):
    order = sale(Order.Status.FULFILLED)
    client.force_login(order.seller)

    page = client.get(reverse("shop:sales_list")).content.decode()

    assert "Add tracking and fulfil" not in page
    assert "Mark fulfilled" not in page


# --- Adding and correcting tracking on the sale page --------------------------------


@pytest.mark.parametrize(
    "status", [Order.Status.FULFILLED, Order.Status.CAPTURED, Order.Status.PARTIALLY_REFUNDED]
)
def test_the_seller_adds_tracking_after_fulfilling_and_the_buyer_is_told(
    client, status, django_capture_on_commit_callbacks
):
    order = sale(status)
    client.force_login(order.seller)
    detail = reverse("shop:sale_detail", args=[order.public_id])
    assert "Add tracking" in client.get(detail).content.decode()

    with (
        mock.patch("notifications.tasks.notification_email_task.delay") as email,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            reverse("shop:sale_tracking", args=[order.public_id]),
            {"carrier": " UPS ", "tracking_number": "1Z999AA10123456784"},
            follow=True,
        )

    assert response.redirect_chain == [(detail, 302)]
    assert "Tracking saved. The buyer has been told." in response.content.decode()
    order.refresh_from_db()
    assert (order.carrier, order.tracking_number) == ("UPS", "1Z999AA10123456784")
    assert order.status == status  # tracking never moves the status
    (notice,) = tracking_notices(order)
    assert notice.link == reverse("shop:order_detail", args=[order.public_id])
    assert "1Z999AA10123456784" in notice.subject
    assert "sent your order with UPS: tracking number 1Z999AA10123456784." in notice.body_text
    assert "<strong>1Z999AA10123456784</strong>" in notice.body_html
    email.assert_called_once_with(notice.pk)
    client.force_login(order.buyer)
    mine = client.get(reverse("shop:order_detail", args=[order.public_id])).content.decode()
    assert "Sent with UPS, tracking number <strong>1Z999AA10123456784</strong>" in mine


def test_a_correction_is_saved_and_told_and_the_same_again_is_not(client):
    order = sale(Order.Status.CAPTURED, carrier="UPS", tracking_number="1Z-TYPO")
    client.force_login(order.seller)
    url = reverse("shop:sale_tracking", args=[order.public_id])
    page = client.get(reverse("shop:sale_detail", args=[order.public_id])).content.decode()
    assert "Correct the tracking" in page
    assert 'value="1Z-TYPO"' in page  # the form starts from what the buyer has

    client.post(url, {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"})
    again = client.post(url, {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"})

    order.refresh_from_db()
    assert order.tracking_number == "1Z999AA10123456784"
    assert len(tracking_notices(order)) == 1
    assert again.status_code == 302
    told = [str(m) for m in again.wsgi_request._messages]  # both posts' (none read yet)
    assert told[-1] == "The tracking was already this: nothing changed."


def test_going_back_to_an_earlier_number_is_news_too():
    order = sale(Order.Status.CAPTURED, tracking_number="AAA111")
    for number in ("BBB222", "AAA111"):
        order_tracking_update(
            order_id=order.pk, seller=order.seller, carrier="", tracking_number=number
        )

    assert len(tracking_notices(order)) == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"carrier": "", "tracking_number": ""}, "__all__", "Enter the carrier, the tracking"),
        ({"carrier": "UPS", "tracking_number": "1" * 101}, "tracking_number", "at most 100"),
        ({"carrier": "C" * 101, "tracking_number": "1Z9"}, "carrier", "at most 100"),
    ],
)
def test_bad_tracking_is_a_field_error_and_changes_nothing(client, fields, field, message):
    order = sale(Order.Status.FULFILLED, carrier="DHL", tracking_number="JD014600003")
    client.force_login(order.seller)

    response = client.post(reverse("shop:sale_tracking", args=[order.public_id]), fields)

    assert response.status_code == 400
    errors = response.context["tracking_form"].errors
    assert message in errors[field][0]
    assert message in response.content.decode()
    order.refresh_from_db()
    assert (order.carrier, order.tracking_number) == ("DHL", "JD014600003")
    assert tracking_notices(order) == []


def test_the_service_checks_the_values_with_the_fulfil_forms_rules():
    order = sale(Order.Status.FULFILLED)

    with pytest.raises(ValidationError) as refused:
        order_tracking_update(
            order_id=order.pk, seller=order.seller, carrier="UPS", tracking_number="1" * 101
        )

    assert "tracking_number" in refused.value.message_dict
    order.refresh_from_db()
    assert order.tracking_number == ""


@pytest.mark.parametrize(
    ("status", "ships", "message"),
    [
        (Order.Status.AUTHORIZED, True, "this order is authorised"),
        (Order.Status.CANCELED, True, "this order is canceled"),
        (Order.Status.REFUNDED, True, "this order is refunded"),
        (Order.Status.CAPTURED, False, "a service"),
    ],
)
def test_tracking_is_refused_before_fulfilment_after_a_refund_and_for_services(
    client, status, ships, message
):
    order = sale(status, ships=ships)
    client.force_login(order.seller)
    page = client.get(reverse("shop:sale_detail", args=[order.public_id])).content.decode()
    assert "tracking-form" not in page  # nothing offered

    response = client.post(
        reverse("shop:sale_tracking", args=[order.public_id]),
        {"carrier": "UPS", "tracking_number": "1Z9"},
        follow=True,
    )

    assert message in response.content.decode()
    order.refresh_from_db()
    assert (order.carrier, order.tracking_number) == ("", "")
    assert tracking_notices(order) == []
    with pytest.raises(TrackingRefused):
        order_tracking_update(
            order_id=order.pk, seller=order.seller, carrier="UPS", tracking_number="1Z9"
        )


def test_only_the_orders_contractor_changes_its_tracking(client):
    order = sale(Order.Status.CAPTURED)
    other = ContractorFactory()
    client.force_login(other)

    url = reverse("shop:sale_tracking", args=[order.public_id])
    assert client.post(url, {"carrier": "UPS", "tracking_number": "1Z9"}).status_code == 404
    client.force_login(order.buyer)
    assert client.post(url, {"carrier": "UPS", "tracking_number": "1Z9"}).status_code == 404
    with pytest.raises(PermissionError):
        order_tracking_update(order_id=order.pk, seller=other, carrier="UPS", tracking_number="1")
    order.refresh_from_db()
    assert order.tracking_number == ""


def test_the_tracking_page_refuses_get(client):
    order = sale(Order.Status.CAPTURED)
    client.force_login(order.seller)
    assert client.get(reverse("shop:sale_tracking", args=[order.public_id])).status_code == 405
