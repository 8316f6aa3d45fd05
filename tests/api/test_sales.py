"""Contractors: GET /api/sales/ and POST /api/sales/{id}/fulfil/."""

import uuid
from unittest import mock

import pytest

from payments.models import Payment
from shop.models import Order
from tests.api.conftest import client_for
from tests.factories import BuyerFactory, OrderFactory, OrderItemFactory, PaymentFactory

pytestmark = pytest.mark.django_db

SALES = "/api/sales/"


def sale(seller, status=Order.Status.AUTHORIZED, **kwargs):
    order = OrderFactory(seller=seller, status=status, amount=4500, fee_amount=480, **kwargs)
    OrderItemFactory(order=order, title="Garden tidy", unit_amount=4500)
    payment_status = (
        Payment.Status.AUTHORIZED if status == Order.Status.AUTHORIZED else Payment.Status.PENDING
    )
    PaymentFactory(order=order, status=payment_status)
    return order


def fulfil(client, order_id):
    return client.post(f"{SALES}{order_id}/fulfil/")


def test_a_contractor_lists_only_their_own_sales_with_fee_and_net(seller, seller_api, other_seller):
    mine = sale(seller, buyer=BuyerFactory(email="ann@example.com"))
    sale(other_seller)

    response = seller_api.get(SALES)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [data] = body["results"]
    assert data["id"] == str(mine.public_id)
    assert data["buyer"] == {"id": mine.buyer_id, "name": "ann", "email": "ann@example.com"}
    assert (data["amount"], data["amount_display"]) == (4500, "$45.00")
    assert (data["fee_amount"], data["fee_display"]) == (480, "$4.80")
    assert (data["net_amount"], data["net_display"]) == (4020, "$40.20")
    assert data["flagged"] is False
    assert data["items"][0]["title"] == "Garden tidy"


def test_sales_filter_by_status(seller, seller_api):
    authorised = sale(seller)
    sale(seller, status=Order.Status.PENDING)

    response = seller_api.get(SALES, {"status": "authorized"})
    bad = seller_api.get(SALES, {"status": "shipped"})

    assert [o["id"] for o in response.json()["results"]] == [str(authorised.public_id)]
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["status"]


def test_buyers_and_anonymous_cannot_see_sales(anon, buyer_api):
    assert anon.get(SALES).status_code == 401
    response = buyer_api.get(SALES)
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": "Only contractor accounts can do this.",
        "fields": {},
    }


def test_fulfil_marks_the_sale_fulfilled_and_schedules_the_capture(
    seller, seller_api, django_capture_on_commit_callbacks
):
    order = sale(seller)
    payment = order.payments.get()

    with (
        mock.patch("payments.tasks.payment_capture_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = fulfil(seller_api, order.public_id)

    assert response.status_code == 200
    assert response.json()["status"] == "fulfilled"
    assert response.json()["status_display"] == "Fulfilled, capturing"
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    delay.assert_called_once_with(payment.pk)

    with mock.patch("payments.tasks.payment_capture_task.delay") as delay:
        again = fulfil(seller_api, order.public_id)
    assert again.status_code == 200  # a repeated click changes nothing
    delay.assert_not_called()


def test_fulfilling_an_unpaid_sale_is_409(seller, seller_api):
    order = sale(seller, status=Order.Status.PENDING)

    response = fulfil(seller_api, order.public_id)

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "invalid_state",
        "message": "This order cannot be fulfilled: it is awaiting payment.",
        "fields": {},
    }
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_nobody_else_can_fulfil_a_sale(anon, buyer, seller, other_seller):
    order = sale(seller, buyer=buyer)

    other_contractor = fulfil(client_for(other_seller), order.public_id)
    its_buyer = fulfil(client_for(buyer), order.public_id)
    anonymous = fulfil(anon, order.public_id)
    missing = fulfil(client_for(seller), uuid.uuid4())

    assert other_contractor.status_code == 404  # not theirs: not even its existence
    assert its_buyer.status_code == 403
    assert its_buyer.json()["error"]["message"] == "Only contractor accounts can do this."
    assert anonymous.status_code == 401
    assert missing.status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.AUTHORIZED


def test_fulfil_only_accepts_post(seller, seller_api):
    order = sale(seller)

    response = seller_api.get(f"{SALES}{order.public_id}/fulfil/")

    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"


def test_fulfil_is_throttled(settings, seller, seller_api):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "fulfil": "1/hour",
        },
    }
    first, second = sale(seller), sale(seller)

    with mock.patch("payments.tasks.payment_capture_task.delay"):
        assert fulfil(seller_api, first.public_id).status_code == 200
        response = fulfil(seller_api, second.public_id)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    second.refresh_from_db()
    assert second.status == Order.Status.AUTHORIZED


@pytest.mark.parametrize("rows", [3, 30])
def test_sales_list_query_count_does_not_grow_with_rows(
    seller, seller_api, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        sale(seller)

    # token, user (django-rest-knox reads them apart), profile (role), count,
    # orders + profiles, items, payments
    with django_assert_max_num_queries(7):
        response = seller_api.get(SALES, {"page_size": 100})

    assert len(response.json()["results"]) == rows
