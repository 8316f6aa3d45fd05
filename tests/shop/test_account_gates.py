"""Who may shop: contractors cannot fill a cart, and a buyer proves their email
address before their first checkout (web and API)."""

import pytest
from django.urls import reverse

from tests.api.conftest import client_for
from tests.factories import BuyerFactory, ContractorFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_a_contractor_cannot_put_a_product_in_a_cart(client):
    product = ProductFactory()
    client.force_login(ContractorFactory())

    response = client.post(reverse("shop:cart_add", args=[product.pk]), follow=True)

    assert "Contractor accounts can&#x27;t buy" in response.content.decode()
    assert not client.session.get("cart")


def test_a_buyer_without_a_proven_address_is_asked_to_confirm_it_before_checkout(client):
    client.force_login(BuyerFactory(email_verified_at=None))

    response = client.post(reverse("shop:checkout_start"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:email_verify"))


def test_the_api_refuses_an_order_from_an_unproven_address():
    api = client_for(BuyerFactory(email_verified_at=None))
    product = ProductFactory()

    response = api.post(
        "/api/orders/", {"items": [{"product": product.pk, "quantity": 1}]}, format="json"
    )

    assert response.status_code == 403
