"""The pay page shows each item's photo (its product's first thumbnail), without a query
per item, and an item without a photo shows no image at all."""

import io
import re
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payments import gateway
from shop import listings
from shop.models import Order
from tests.factories import ProductFactory, image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def gw(monkeypatch):
    fake = mock.MagicMock()
    names = [
        "customer_create",
        "customer_payment_methods",
        "payment_intent_create",
        "payment_intent_retrieve",
    ]
    for name in names:
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    fake.customer_create.return_value = {"id": "cus_1"}
    fake.customer_payment_methods.return_value = []
    fake.payment_intent_create.side_effect = lambda **kw: {
        "id": f"pi_{kw['order_id']}",
        "client_secret": f"pi_{kw['order_id']}_secret_x",
        "status": "requires_payment_method",
    }
    fake.payment_intent_retrieve.side_effect = lambda **kw: {
        "id": kw["payment_intent"],
        "client_secret": f"{kw['payment_intent']}_secret_x",
        "status": "requires_payment_method",
    }
    return fake


def with_photo(product, alt):
    listings.photo_add(product=product, upload=io.BytesIO(image_bytes()), alt_text=alt)
    return product


def pay_page(client, buyer, *products):
    client.force_login(buyer)
    for product in products:
        client.post(reverse("shop:cart_add", args=[product.pk]), {"quantity": 1})
    client.post(reverse("shop:checkout_start"))
    order = Order.objects.filter(buyer=buyer).latest("pk")
    return reverse("shop:checkout_pay", args=[order.checkout_id])


def pay_thumbs(html: str) -> list[str]:
    return re.findall(r'<img class="pay-thumb"[^>]*>', html)


def test_the_pay_page_shows_each_items_thumbnail_with_its_alt_text(client, buyer, seller, gw):
    board = with_photo(ProductFactory(seller=seller, title="Oak board"), "Oak board, top view")
    thumbnail = board.photos.get().thumbnail

    response = client.get(pay_page(client, buyer, board))

    assert response.status_code == 200
    (img,) = pay_thumbs(response.content.decode())
    assert f'src="{thumbnail.url}"' in img
    assert 'alt="Oak board, top view"' in img
    assert thumbnail.url.endswith(".jpg")  # the stored thumbnail, not the full photo
    assert thumbnail.name != board.photos.get().image.name


def test_an_item_without_a_photo_shows_no_image(client, buyer, seller, gw):
    board = with_photo(ProductFactory(seller=seller, title="Oak board"), "Oak board, top view")
    plain = ProductFactory(seller=seller, title="Pine shelf")

    html = client.get(pay_page(client, buyer, board, plain)).content.decode()

    assert len(pay_thumbs(html)) == 1  # the board's only
    assert "1 × Pine shelf" in html
    assert 'src=""' not in html
    assert "<img" not in html.split("1 × Oak board")[1].split("1 × Pine shelf")[0]


def test_photos_cost_no_query_per_item(client, buyer, seller, gw):
    one = pay_page(client, buyer, with_photo(ProductFactory(seller=seller), "First"))
    client.get(one)  # the first visit makes the intent; count the ones after
    with CaptureQueriesContext(connection) as single:
        assert client.get(one).status_code == 200

    others = [with_photo(ProductFactory(seller=seller), f"Photo {n}") for n in range(4)]
    many = pay_page(client, buyer, *others)
    client.get(many)
    with CaptureQueriesContext(connection) as several:
        response = client.get(many)
    html = response.content.decode()

    assert len(pay_thumbs(html)) == 5  # the first product is still in the cart
    assert len(several) == len(single)
