"""Sellers set a product's stock on the web, in admin and through the API; a sale made
while they edit is never undone by the number their form showed."""

import pytest
from django.urls import reverse

from shop.models import Product
from shop.services import checkout_create
from tests.api.conftest import client_for
from tests.factories import BuyerFactory, ProductFactory

pytestmark = pytest.mark.django_db

NEW = reverse("shop:seller_product_new")


def form(**fields):
    return {
        "title": "Oak board",
        "description": "",
        "currency": "usd",
        "price": "45.00",
        "category": "",
        "kind": "shipped",  # a new product says what it is (no default is preselected)
        **fields,
    }


def stock_of(product) -> int | None:
    return Product.objects.get(pk=product.pk).stock


def test_a_new_product_with_stock_and_one_without(seller_client, seller):
    seller_client.post(NEW, form(title="Mug", stock="12"))
    seller_client.post(NEW, form(title="Tune-up", stock=""))
    stocks = dict(Product.objects.filter(seller=seller).values_list("title", "stock"))
    assert stocks == {"Mug": 12, "Tune-up": None}


def test_the_edit_form_shows_the_stock_and_a_negative_one_is_refused(seller_client, seller):
    product = ProductFactory(seller=seller, stock=4)
    url = reverse("shop:seller_product_edit", args=[product.pk])
    page = seller_client.get(url).content.decode()
    assert 'name="stock" value="4"' in page
    assert "Leave it empty for no limit" in page

    refused = seller_client.post(url, form(stock="-1", stock_shown="4"))

    assert "greater than or equal to 0" in refused.content.decode()
    assert stock_of(product) == 4


def test_a_sale_while_the_seller_edits_is_not_undone(seller_client, seller):
    product = ProductFactory(seller=seller, stock=5, title="Oak board")
    url = reverse("shop:seller_product_edit", args=[product.pk])
    # The form shows 5; a buyer checks out 2 before the seller saves a new title.
    checkout_create(buyer=BuyerFactory(), items=[(product.pk, 2)])

    seller_client.post(url, form(title="Oak board, oiled", stock="5", stock_shown="5"))

    product.refresh_from_db()
    assert (product.title, product.stock) == ("Oak board, oiled", 3)

    seller_client.post(url, form(title="Oak board, oiled", stock="10", stock_shown="3"))
    assert stock_of(product) == 10  # a number the seller typed is the new stock
    seller_client.post(url, form(title="Oak board, oiled", stock="", stock_shown="10"))
    assert stock_of(product) is None  # and empty is no limit


def test_the_api_sets_and_shows_stock():
    from tests.shop.conftest import onboarded_contractor

    seller = onboarded_contractor()
    api = client_for(seller)
    created = api.post(
        "/api/seller/products/",
        {"title": "Mug", "price": "12.00", "currency": "usd", "stock": 3},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["stock"], body["sold_out"]) == (3, False)

    url = f"/api/seller/products/{body['id']}/"
    changed = api.patch(url, {"stock": 0}, format="json").json()
    assert (changed["stock"], changed["sold_out"]) == (0, True)
    assert api.patch(url, {"title": "Big mug"}, format="json").json()["stock"] == 0
    assert api.patch(url, {"stock": None}, format="json").json()["stock"] is None
    refused = api.patch(url, {"stock": -2}, format="json")
    assert refused.status_code == 400
    assert "stock" in refused.json()["error"]["fields"]


def test_the_catalogue_marks_sold_out(client, seller):
    ProductFactory(seller=seller, stock=0, title="Gone mug")
    page = client.get(reverse("shop:product_list")).content.decode()
    assert "Sold out" in page
