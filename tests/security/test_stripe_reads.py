"""Page loads cannot spend the platform's Stripe rate limit."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from payments.models import Payment
from tests.factories import BuyerFactory, OrderFactory, PaymentFactory
from tests.shop.test_checkout_views import gw  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def unpaid(db):
    buyer = BuyerFactory()
    order = OrderFactory(buyer=buyer)
    payment = PaymentFactory(order=order, stripe_payment_intent_id="pi_unpaid")
    return buyer, order, payment


@pytest.fixture
def stripe_says_unpaid(gw):  # noqa: F811
    gw.payment_intent_retrieve.return_value = {
        "id": "pi_unpaid",
        "object": "payment_intent",
        "client_secret": "pi_unpaid_secret_x",
        "status": "requires_payment_method",
        "amount": 5000,
        "currency": "usd",
        "metadata": {},
    }
    return gw


def test_reloading_the_pay_page_reads_the_intent_once_per_window(
    client, unpaid, stripe_says_unpaid
):
    buyer, order, _ = unpaid
    client.force_login(buyer)
    url = reverse("shop:checkout_pay", args=[order.checkout_id])

    statuses = [client.get(url).status_code for _ in range(20)]

    assert statuses == [200] * 20
    assert stripe_says_unpaid.payment_intent_retrieve.call_count == 1


def test_the_return_page_syncs_a_payment_once_per_window(client, unpaid, stripe_says_unpaid):
    buyer, order, payment = unpaid
    client.force_login(buyer)
    url = reverse("shop:checkout_done", args=[order.checkout_id])

    for _ in range(20):
        assert client.get(url).status_code == 200

    assert stripe_says_unpaid.payment_intent_retrieve.call_count == 1
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING


def test_a_new_window_reads_stripe_again(client, unpaid, stripe_says_unpaid, settings):
    settings.STRIPE_SYNC_MIN_SECONDS = 0  # every load is a new window
    buyer, order, _ = unpaid
    client.force_login(buyer)

    for _ in range(3):
        client.get(reverse("shop:checkout_done", args=[order.checkout_id]))

    assert stripe_says_unpaid.payment_intent_retrieve.call_count == 3


def test_eighty_loads_get_a_kind_429_after_the_per_user_limit(
    client, unpaid, stripe_says_unpaid, settings
):
    settings.STRIPE_READS_PER_MINUTE = 30
    buyer, order, _ = unpaid
    client.force_login(buyer)
    url = reverse("shop:checkout_pay", args=[order.checkout_id])

    responses = [client.get(url) for _ in range(80)]

    assert [r.status_code for r in responses].count(200) == 30
    assert responses[-1].status_code == 429
    assert "Please wait a moment" in responses[-1].content.decode()


def test_the_api_order_detail_is_throttled_and_reads_stripe_once(unpaid, stripe_says_unpaid):
    from knox.models import AuthToken

    buyer, order, _ = unpaid
    _, token = AuthToken.objects.create(user=buyer)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    statuses = [api.get(f"/api/orders/{order.public_id}/").status_code for _ in range(40)]

    assert statuses.count(200) == 30
    assert statuses[-1] == 429
    assert stripe_says_unpaid.payment_intent_retrieve.call_count == 1
