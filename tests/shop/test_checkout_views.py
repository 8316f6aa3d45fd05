"""Checkout pages with the gateway patched: ownership, retry on outage, outcome page."""

from unittest import mock

import pytest
from django.urls import reverse

from payments import gateway
from payments.models import Payment
from shop.models import Order
from tests.factories import BuyerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def gw(monkeypatch):
    fake = mock.MagicMock()
    for name in [
        "customer_create",
        "customer_payment_methods",
        "payment_intent_create",
        "payment_intent_retrieve",
        "payment_method_detach",
    ]:
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    fake.customer_create.return_value = {"id": "cus_1"}
    fake.customer_payment_methods.return_value = []
    fake.payment_intent_create.side_effect = lambda **kw: {
        "id": f"pi_{kw['order_id']}",
        "client_secret": f"pi_{kw['order_id']}_secret_x",
        "status": "requires_payment_method",
    }
    return fake


def add_to_cart(client, product, quantity=1):
    client.post(reverse("shop:cart_add", args=[product.pk]), {"quantity": quantity})


def start_checkout(client):
    return client.post(reverse("shop:checkout_start"))


def test_checkout_creates_orders_and_shows_the_pay_page(
    client, buyer, buyable_product, gw, settings
):
    settings.STRIPE_JS_URL = "http://sandbox.test/v3/"
    client.force_login(buyer)
    add_to_cart(client, buyable_product, 2)

    response = start_checkout(client)

    order = Order.objects.get(buyer=buyer)
    assert response.status_code == 302
    assert response.url == reverse("shop:checkout_pay", args=[order.checkout_id])
    # The cart keeps its lines until they are paid, and knows its checkout.
    assert client.session["cart"] == {str(buyable_product.pk): 2}
    assert client.session["cart_checkouts"] == {"usd": str(order.checkout_id)}

    page = client.get(response.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="http://sandbox.test/v3/"' in html
    assert f"pi_{order.pk}_secret_x" in html
    assert "$50.00" in html
    assert page.context["config"]["publishableKey"] == settings.STRIPE_PUBLISHABLE_KEY
    payment = Payment.objects.get(order=order)
    assert payment.stripe_payment_intent_id == f"pi_{order.pk}"


def test_checkout_with_an_empty_cart_explains(client, buyer):
    client.force_login(buyer)
    response = start_checkout(client)
    assert response.url == reverse("shop:cart")
    follow = client.get(response.url)
    assert "Your cart is empty." in [str(m) for m in follow.context["messages"]]
    assert not Order.objects.exists()


def test_get_on_checkout_goes_back_to_the_cart(client, buyer):
    client.force_login(buyer)
    assert client.get(reverse("shop:checkout_start")).url == reverse("shop:cart")


def test_checkout_requires_login(client):
    response = start_checkout(client)
    assert reverse("accounts:login") in response.url


def test_stripe_unreachable_keeps_the_order_and_retry_works(client, buyer, buyable_product, gw):
    client.force_login(buyer)
    add_to_cart(client, buyable_product)
    pay_url = start_checkout(client).url
    create = gw.payment_intent_create.side_effect
    gw.payment_intent_create.side_effect = gateway.GatewayUnavailable("down")

    page = client.get(pay_url)

    assert page.status_code == 503
    assert "Payment service is unreachable, please retry" in page.content.decode()
    assert Order.objects.get().status == Order.Status.PENDING

    gw.payment_intent_create.side_effect = create
    assert client.get(pay_url).status_code == 200
    assert Payment.objects.get().stripe_payment_intent_id


def test_stripe_refusing_the_intent_shows_plain_words_not_an_error_page(
    client, buyer, buyable_product, gw
):
    client.force_login(buyer)
    add_to_cart(client, buyable_product)
    pay_url = start_checkout(client).url
    gw.payment_intent_create.side_effect = gateway.GatewayRejected(
        "No such destination: 'acct_gone'", code="resource_missing", status=400
    )

    page = client.get(pay_url)

    html = page.content.decode()
    assert page.status_code == 502
    assert "The payment service returned an error. Please try again." in html
    assert "acct_gone" not in html  # Stripe's wording is logged, not shown
    assert Order.objects.get().status == Order.Status.PENDING


def test_another_buyer_cannot_see_the_checkout(client, buyer, buyable_product, gw):
    client.force_login(buyer)
    add_to_cart(client, buyable_product)
    pay_url = start_checkout(client).url
    client.force_login(BuyerFactory())
    assert client.get(pay_url).status_code == 404


def test_done_page_reads_the_outcome_from_stripe(client, buyer, buyable_product, gw):
    client.force_login(buyer)
    add_to_cart(client, buyable_product)
    pay_url = start_checkout(client).url
    client.get(pay_url)
    payment = Payment.objects.get()
    gw.payment_intent_retrieve.return_value = {
        "id": payment.stripe_payment_intent_id,
        "status": "requires_capture",
        "amount_capturable": payment.amount,
        "created": 1_800_000_000,
        "latest_charge": "ch_1",
    }

    page = client.get(pay_url + "done/")

    assert page.status_code == 200
    assert "your payment is authorised" in page.content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.AUTHORIZED
    assert payment.order.status == Order.Status.AUTHORIZED
    assert client.get(pay_url).url.endswith("/done/")  # paid: no second payment page


def test_done_page_forgets_a_card_the_buyer_did_not_save(client, buyer, buyable_product, gw):
    client.force_login(buyer)
    add_to_cart(client, buyable_product)
    pay_url = start_checkout(client).url
    client.get(pay_url)
    payment = Payment.objects.get()
    gw.payment_intent_retrieve.return_value = {
        "id": payment.stripe_payment_intent_id,
        "status": "requires_capture",
        "amount_capturable": payment.amount,
        "created": 1_800_000_000,
        "payment_method": "pm_used",
    }
    client.get(pay_url + "done/?forget=pm_used")
    client.get(pay_url + "done/?forget=pm_someone_elses")
    gw.payment_method_detach.assert_called_once_with(
        payment_method="pm_used", idempotency_key=f"checkout-{payment.order.checkout_id}-forget"
    )


def test_amounts_sent_by_the_browser_are_ignored(client, buyer, buyable_product, gw):
    client.force_login(buyer)
    client.post(
        reverse("shop:cart_add", args=[buyable_product.pk]),
        {"quantity": 2, "price_amount": 1, "amount": 1},
    )
    client.post(reverse("shop:checkout_start"), {"amount": 1, "fee_amount": 0})
    order = Order.objects.get()
    assert order.amount == 2 * buyable_product.price_amount
    assert order.fee_amount > 0
