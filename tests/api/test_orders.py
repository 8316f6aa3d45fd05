"""Buyers: POST /api/orders/ (checkout), their orders, and paying an order later."""

import uuid

import pytest

from payments import gateway
from payments.models import Payment
from shop.models import Order
from tests.api.conftest import client_for
from tests.factories import (
    ContractorFactory,
    OrderFactory,
    OrderItemFactory,
    PaymentFactory,
    ProductFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

ORDERS = "/api/orders/"


def checkout(client, *items):
    return client.post(
        ORDERS, {"items": [{"product": p, "quantity": q} for p, q in items]}, format="json"
    )


# --- Checkout -------------------------------------------------------------------------


def test_checkout_creates_the_order_and_returns_the_client_secret(gw, buyer, buyer_api, product):
    response = checkout(buyer_api, (product.pk, 2))

    assert response.status_code == 201
    order = Order.objects.get(buyer=buyer)
    payment = order.payments.get()
    body = response.json()
    assert body["checkout_id"] == str(order.checkout_id)
    assert body["publishable_key"] == "pk_test_sandbox"
    [data] = body["orders"]
    assert data["id"] == str(order.public_id)
    assert (data["status"], data["status_display"]) == ("pending", "Awaiting payment")
    assert (data["amount"], data["currency"], data["amount_display"]) == (9000, "usd", "$90.00")
    assert data["seller"] == {"id": product.seller_id, "name": product.seller.profile.name}
    assert data["items"] == [
        {
            "product": product.pk,
            "title": "Garden tidy",
            "quantity": 2,
            "unit_amount": 4500,
            "unit_display": "$45.00",
            "line_amount": 9000,
            "line_display": "$90.00",
        }
    ]
    assert data["payable"] is True
    assert data["payment"] == {
        "status": "pending",
        "status_display": "Awaiting card",
        "amount": 9000,
        "currency": "usd",
        "amount_display": "$90.00",
        "client_secret": "pi_api_1_secret",
        "last_error_message": "",
    }
    # The server priced it, with the platform fee, and asked Stripe exactly once.
    assert (order.amount, order.fee_amount) == (9000, 930)
    gw.payment_intent_create.assert_called_once_with(
        amount=9000,
        currency="usd",
        customer="cus_api",
        destination="acct_seller_api",
        application_fee_amount=930,
        order_id=order.pk,
        order_public_id=str(order.public_id),
        idempotency_key=f"payment-{payment.pk}-intent",
    )
    payment.refresh_from_db()
    assert payment.stripe_payment_intent_id == "pi_api_1"


def test_a_cart_from_two_contractors_is_two_orders_with_one_checkout_and_one_payment(
    gw, buyer, buyer_api, product, other_seller
):
    theirs = ProductFactory(seller=other_seller, price_amount=1000)

    response = checkout(buyer_api, (product.pk, 1), (theirs.pk, 3), (product.pk, 1))

    assert response.status_code == 201
    body = response.json()
    orders = {o["seller"]["id"]: o for o in body["orders"]}
    assert orders[product.seller_id]["amount"] == 9000  # repeated lines add up
    assert orders[other_seller.pk]["amount"] == 3000
    # One platform charge for both (separate charges and transfers): one confirmation.
    assert {o["payment"]["client_secret"] for o in body["orders"]} == {"pi_api_1_secret"}
    gw.payment_intent_create.assert_not_called()
    assert set(Order.objects.values_list("checkout_id", flat=True)) == {
        uuid.UUID(body["checkout_id"])
    }


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([], "items"),
        ([{"product": 1}], "items[0].quantity"),
        ([{"product": 1, "quantity": 0}], "items[0].quantity"),
        ([{"product": 1, "quantity": 100}], "items[0].quantity"),
        ([{"product": 1, "quantity": 1}, {"product": "x", "quantity": 1}], "items[1].product"),
        ([{"product": 1, "quantity": 1.5}], "items[0].quantity"),
        ("not a list", "items"),
    ],
)
def test_malformed_items_are_400_with_field_errors(gw, buyer_api, items, field):
    response = buyer_api.post(ORDERS, {"items": items}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert not Order.objects.exists()
    gw.payment_intent_create.assert_not_called()


def test_a_body_that_is_not_an_object_or_not_json_is_400(buyer_api):
    as_list = buyer_api.post(ORDERS, [1, 2], format="json")
    broken = buyer_api.post(ORDERS, "{not json", content_type="application/json")
    as_form = buyer_api.post(ORDERS, {"items": "1"})  # multipart: the API speaks JSON

    assert as_list.status_code == 400
    assert as_list.json()["error"]["code"] == "invalid"
    assert "Expected a dictionary" in as_list.json()["error"]["message"]
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "parse_error"
    assert as_form.status_code == 415
    assert as_form.json()["error"]["code"] == "unsupported_media_type"


def test_checkout_refusals_are_400_checkout_invalid(gw, buyer_api, product, other_seller):
    euros = ProductFactory(seller=other_seller, currency="eur")
    stuck = ProductFactory(seller=ContractorFactory(), title="Stuck")
    too_much = ProductFactory(seller=product.seller, price_amount=50_000_000)

    cases = {
        "A product in your cart no longer exists.": [(987654, 1)],
        "“Stuck” cannot be bought right now.": [(stuck.pk, 1)],
        "Items in different currencies must be paid separately: remove the items in one "
        "currency and check out again.": [(product.pk, 1), (euros.pk, 1)],
        "Quantity must be between 1 and 99.": [(product.pk, 60), (product.pk, 60)],
        "This order is too large to pay by card.": [(too_much.pk, 2)],
    }
    for message, items in cases.items():
        response = checkout(buyer_api, *items)
        assert response.status_code == 400, message
        assert response.json() == {
            "error": {"code": "checkout_invalid", "message": message, "fields": {}}
        }
    assert not Order.objects.exists()
    gw.payment_intent_create.assert_not_called()


def test_contractors_staff_and_anonymous_cannot_check_out(gw, anon, seller_api, product):
    staff_api = client_for(StaffFactory())

    anonymous = checkout(anon, (product.pk, 1))
    contractor = checkout(seller_api, (product.pk, 1))
    staff = checkout(staff_api, (product.pk, 1))

    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"
    assert anonymous.json()["error"] == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "fields": {},
    }
    for response in (contractor, staff):
        assert response.status_code == 403
        assert response.json()["error"] == {
            "code": "permission_denied",
            "message": "Only buyer accounts can do this.",
            "fields": {},
        }
    assert not Order.objects.exists()


def test_unreachable_stripe_is_503_and_the_orders_are_kept_for_later(gw, buyer, buyer_api, product):
    gw.payment_intent_create.side_effect = gateway.GatewayUnavailable("connection refused")

    response = checkout(buyer_api, (product.pk, 1))

    assert response.status_code == 503
    order = Order.objects.get(buyer=buyer)
    assert response.json() == {
        "error": {
            "code": "payment_service_unavailable",
            "message": "Payment service is unreachable, please retry.",
            "fields": {},
            "checkout_id": str(order.checkout_id),
            "orders": [str(order.public_id)],
        }
    }
    assert order.status == Order.Status.PENDING
    assert order.payments.get().stripe_payment_intent_id is None

    # Still down: the order reads fine, without a secret.
    detail = buyer_api.get(f"{ORDERS}{order.public_id}/")
    assert detail.status_code == 200
    assert detail.json()["payment"]["client_secret"] is None
    assert detail.json()["payable"] is True
    pay = buyer_api.post(f"{ORDERS}{order.public_id}/payment/")
    assert pay.status_code == 503
    assert pay.json()["error"]["code"] == "payment_service_unavailable"

    # Stripe answers again: the same intent key, and the secret.
    gw.payment_intent_create.side_effect = None
    gw.payment_intent_create.return_value = {"id": "pi_late", "client_secret": "pi_late_s"}
    pay = buyer_api.post(f"{ORDERS}{order.public_id}/payment/")
    assert pay.status_code == 200
    assert pay.json() == {
        "status": "pending",
        "status_display": "Awaiting card",
        "amount": 4500,
        "currency": "usd",
        "amount_display": "$45.00",
        "client_secret": "pi_late_s",
        "last_error_message": "",
        "order": str(order.public_id),
        "publishable_key": "pk_test_sandbox",
    }
    detail = buyer_api.get(f"{ORDERS}{order.public_id}/")
    assert detail.json()["payment"]["client_secret"] == "pi_late_secret"  # re-read
    gw.payment_intent_retrieve.assert_called_once_with(payment_intent="pi_late")
    keys = {c.kwargs["idempotency_key"] for c in gw.payment_intent_create.call_args_list}
    assert keys == {f"payment-{order.payments.get().pk}-intent"}


def test_stripe_refusing_the_intent_is_502_and_the_orders_are_kept(gw, buyer, buyer_api, product):
    gw.payment_intent_create.side_effect = gateway.GatewayRejected(
        "No such destination: 'acct_seller_api'", code="resource_missing", status=400
    )

    response = checkout(buyer_api, (product.pk, 1))

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "payment_service_error"
    assert error["message"] == "The payment service returned an error. Please try again."
    assert "acct_" not in str(response.json())
    assert error["orders"] == [str(Order.objects.get(buyer=buyer).public_id)]


def test_checkout_is_throttled_and_tests_can_change_the_rate(gw, settings, buyer_api, product):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "orders": "2/min",
        },
    }

    statuses = [checkout(buyer_api, (product.pk, 1)).status_code for _ in range(3)]
    listing = buyer_api.get(ORDERS)  # reads are not throttled

    assert statuses == [201, 201, 429]
    assert listing.status_code == 200
    throttled = checkout(buyer_api, (product.pk, 1))
    assert throttled.json()["error"]["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    # The same unpaid cart again is the same checkout, not a second one.
    assert Order.objects.count() == 1


# --- Orders -----------------------------------------------------------------------------


def paid_order(buyer, **kwargs):
    order = OrderFactory(buyer=buyer, status=Order.Status.AUTHORIZED, **kwargs)
    OrderItemFactory(order=order, title="Thing", unit_amount=2500)
    PaymentFactory(order=order, status=Payment.Status.AUTHORIZED, amount_authorized=2500)
    return order


def test_a_buyer_lists_only_their_own_orders_without_calling_stripe(gw, buyer, buyer_api):
    mine = paid_order(buyer)
    paid_order(OrderFactory().buyer)

    response = buyer_api.get(ORDERS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [data] = body["results"]
    assert data["id"] == str(mine.public_id)
    assert data["payable"] is False
    assert data["payment"]["status"] == "authorized"
    assert data["payment"]["client_secret"] is None
    gw.payment_intent_retrieve.assert_not_called()


def test_orders_filter_by_status_and_checkout(buyer, buyer_api):
    authorised = paid_order(buyer)
    pending = OrderFactory(buyer=buyer)

    def ids(**params):
        return [o["id"] for o in buyer_api.get(ORDERS, params).json()["results"]]

    assert ids(status="pending") == [str(pending.public_id)]
    assert ids(checkout_id=str(authorised.checkout_id)) == [str(authorised.public_id)]
    bad = buyer_api.get(ORDERS, {"status": "lost", "checkout_id": "nope"})
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"status", "checkout_id"}


def test_order_detail_is_the_buyers_own_only(gw, buyer, buyer_api, other_buyer):
    mine = paid_order(buyer)
    theirs = paid_order(other_buyer)

    own = buyer_api.get(f"{ORDERS}{mine.public_id}/")
    other = buyer_api.get(f"{ORDERS}{theirs.public_id}/")
    missing = buyer_api.get(f"{ORDERS}{uuid.uuid4()}/")
    pay_other = buyer_api.post(f"{ORDERS}{theirs.public_id}/payment/")

    assert own.status_code == 200
    assert own.json()["items"][0]["line_display"] == "$25.00"
    for response in (other, missing, pay_other):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    gw.payment_intent_retrieve.assert_not_called()  # nothing to pay: Stripe not asked


def test_contractors_and_anonymous_cannot_read_orders(anon, seller_api, buyer):
    order = paid_order(buyer)

    for client, status in [(anon, 401), (seller_api, 403)]:
        assert client.get(ORDERS).status_code == status
        assert client.get(f"{ORDERS}{order.public_id}/").status_code == status
        assert client.post(f"{ORDERS}{order.public_id}/payment/").status_code == status


def test_paying_an_order_that_is_already_paid_is_409(gw, buyer, buyer_api):
    order = paid_order(buyer)

    response = buyer_api.post(f"{ORDERS}{order.public_id}/payment/")

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "invalid_state",
        "message": "This order has nothing left to pay: it is authorised.",
        "fields": {},
    }
    gw.payment_intent_retrieve.assert_not_called()


def test_a_declined_order_can_be_paid_again(gw, buyer, buyer_api):
    order = OrderFactory(buyer=buyer, status=Order.Status.FAILED)
    PaymentFactory(
        order=order, stripe_payment_intent_id="pi_declined", last_error_message="Declined."
    )

    response = buyer_api.post(f"{ORDERS}{order.public_id}/payment/")

    assert response.status_code == 200
    assert response.json()["client_secret"] == "pi_declined_secret"
    assert response.json()["last_error_message"] == "Declined."
    gw.payment_intent_retrieve.assert_called_once_with(payment_intent="pi_declined")


@pytest.mark.parametrize("rows", [3, 30])
def test_order_list_query_count_does_not_grow_with_rows(
    buyer, buyer_api, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        order = paid_order(buyer, seller=ContractorFactory())
        OrderItemFactory(order=order)

    # token, user (django-rest-knox reads them apart), profile (role), count,
    # orders + seller/buyer profiles, items, payments
    with django_assert_max_num_queries(7):
        response = buyer_api.get(ORDERS, {"page_size": 100})

    assert len(response.json()["results"]) == rows


def test_paying_an_order_stripe_refuses_is_502_without_stripes_wording(gw, buyer, buyer_api):
    order = OrderFactory(buyer=buyer)
    PaymentFactory(order=order, stripe_payment_intent_id=None)
    gw.payment_intent_create.side_effect = gateway.GatewayRejected(
        "No such destination: 'acct_gone'", code="resource_missing", status=400
    )

    pay = buyer_api.post(f"{ORDERS}{order.public_id}/payment/")
    detail = buyer_api.get(f"{ORDERS}{order.public_id}/")

    assert pay.status_code == 502
    assert pay.json() == {
        "error": {
            "code": "payment_service_error",
            "message": "The payment service returned an error. Please try again.",
            "fields": {},
        }
    }
    assert detail.status_code == 200  # the order still reads, without a secret
    assert detail.json()["payment"]["client_secret"] is None


def test_checking_out_the_same_cart_again_returns_the_same_checkout_and_secret(
    gw, buyer, buyer_api, product
):
    first = checkout(buyer_api, (product.pk, 1)).json()
    again = checkout(buyer_api, (product.pk, 1))

    assert again.status_code == 201
    assert again.json()["checkout_id"] == first["checkout_id"]
    assert again.json()["orders"][0]["payment"]["client_secret"] == "pi_api_1_secret"
    gw.payment_intent_create.assert_called_once()  # the second one read it back
