"""Shipping through the API: a checkout of shipped goods needs an address, which goes to
the PaymentIntent; the contractor adds a carrier and tracking number when fulfilling."""

import pytest

from payments.models import Payment
from shop.models import Order, Product
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "350 Fifth Avenue",
    "city": "New York",
    "postal_code": "10118",
    "state": "ny",
    "country": "US",
}


@pytest.fixture
def board(seller):
    return ProductFactory(seller=seller, slug="board", price_amount=4500, kind=Product.Kind.SHIPPED)


def checkout(client, product, **extra):
    body = {"items": [{"product": product.pk, "quantity": 1}], **extra}
    return client.post("/api/orders/", body, format="json")


def test_shipped_goods_without_an_address_are_refused_before_any_order(gw, buyer_api, board):
    response = checkout(buyer_api, board)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "shipping": ["These items ship: give a shipping address."]
    }
    assert not Order.objects.exists()
    gw.payment_intent_create.assert_not_called()


def test_a_bad_address_is_a_field_error(gw, buyer_api, board):
    response = checkout(buyer_api, board, shipping={**ADDRESS, "postal_code": "1"})
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields["shipping.postal_code"] == ["This is not a postal code of United States."]


def test_the_address_goes_on_the_order_and_to_the_payment_intent(gw, buyer, buyer_api, board):
    response = checkout(buyer_api, board, shipping=ADDRESS)

    assert response.status_code == 201
    order = Order.objects.get(buyer=buyer)
    expected = {**ADDRESS, "state": "NY", "line2": ""}
    assert response.json()["orders"][0]["shipping"] == expected
    assert gw.payment_intent_create.call_args.kwargs["shipping"] == {
        "name": "Ada Lovelace",
        "address": {
            "line1": "350 Fifth Avenue",
            "city": "New York",
            "postal_code": "10118",
            "state": "NY",
            "country": "US",
        },
    }
    assert order.shipping_state == "NY"
    # A service in the same API sends none.
    service = ProductFactory(seller=board.seller, slug="lesson")
    assert checkout(buyer_api, service).status_code == 201
    assert "shipping" not in gw.payment_intent_create.call_args.kwargs


def test_the_contractor_fulfils_with_a_carrier_and_tracking_number(gw, buyer, seller_api, board):
    order = Order.objects.create(
        buyer=buyer,
        seller=board.seller,
        amount=4500,
        fee_amount=480,
        currency="usd",
        status=Order.Status.AUTHORIZED,
        requires_shipping=True,
        shipping_name="Ada",
        shipping_line1="1 Main St",
        shipping_city="Albany",
        shipping_country="US",
    )
    payment = Payment.objects.create(
        order=order,
        amount=4500,
        application_fee_amount=480,
        currency="usd",
        status=Payment.Status.AUTHORIZED,
        stripe_payment_intent_id="pi_ship",
        destination_account="acct_seller_api",
    )
    url = f"/api/sales/{order.public_id}/fulfil/"

    refused = seller_api.post(url, {"tracking_number": "1" * 101}, format="json")
    assert refused.status_code == 400
    assert "tracking_number" in refused.json()["error"]["fields"]

    response = seller_api.post(url, {"carrier": "UPS", "tracking_number": "1Z9"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["carrier"], body["tracking_number"]) == ("fulfilled", "UPS", "1Z9")
    assert body["shipping"]["line1"] == "1 Main St"
    payment.refresh_from_db()
    assert payment.action == Payment.Action.CAPTURE


def test_sellers_say_through_the_api_whether_a_product_ships(seller_api):
    new = {"title": "Bowl", "price": "30.00", "currency": "usd"}
    service = seller_api.post("/api/seller/products/", new, format="json").json()
    assert service["kind"] == "service"  # the default: nobody is asked for an address

    shipped = seller_api.post("/api/seller/products/", {**new, "kind": "shipped"}, format="json")
    assert shipped.json()["kind"] == "shipped"
    url = f"/api/seller/products/{shipped.json()['id']}/"
    back = seller_api.patch(url, {"kind": "service"}, format="json")
    assert back.json()["kind"] == "service"
    bad = seller_api.patch(url, {"kind": "teleported"}, format="json")
    assert bad.status_code == 400
    assert "kind" in bad.json()["error"]["fields"]
