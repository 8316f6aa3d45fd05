"""A new listing says whether it is shipped goods or a service: nothing is preselected
and a missing choice is a field error (a seller of goods who did not look would never
get their buyers' addresses). Editing keeps the saved choice. The API keeps its
documented default, a service."""

import re

import pytest
from django.urls import reverse

from shop.forms import KIND_REQUIRED, ProductAdminForm, ProductForm
from shop.models import Product
from tests.factories import ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

NEW = reverse("shop:seller_product_new")
LISTING = {"title": "Oak board", "description": "", "currency": "usd", "price": "45.00"}


def checked(page: str) -> list[str]:
    """The values of the kind radios that are checked."""
    return re.findall(r'<input type="radio" name="kind" value="(\w+)"[^>]*\bchecked\b', page)


def test_the_new_product_page_preselects_neither_kind(seller_client):
    page = seller_client.get(NEW).content.decode()

    assert 'name="kind" value="shipped"' in page
    assert 'name="kind" value="service"' in page
    assert checked(page) == []


def test_a_new_product_without_a_kind_is_a_field_error_that_keeps_the_rest(seller_client, seller):
    response = seller_client.post(NEW, LISTING)

    assert response.status_code == 200
    assert response.context["form"].errors == {"kind": [KIND_REQUIRED]}
    page = response.content.decode()
    assert KIND_REQUIRED in page
    assert 'value="Oak board"' in page  # what was typed stays
    assert not Product.objects.filter(seller=seller).exists()


@pytest.mark.parametrize("kind", ["shipped", "service"])
def test_a_new_product_is_what_the_seller_chose(seller_client, seller, kind):
    response = seller_client.post(NEW, {**LISTING, "kind": kind})

    assert response.status_code == 302
    assert Product.objects.get(seller=seller).kind == kind


def test_a_refused_form_shows_the_choice_made(seller_client):
    response = seller_client.post(NEW, {**LISTING, "kind": "shipped", "price": "nope"})

    assert response.status_code == 200
    assert checked(response.content.decode()) == ["shipped"]


@pytest.mark.parametrize("kind", [Product.Kind.SHIPPED, Product.Kind.SERVICE])
def test_editing_shows_and_keeps_the_saved_kind(seller_client, seller, kind):
    product = ProductFactory(seller=seller, kind=kind)
    edit = reverse("shop:seller_product_edit", args=[product.pk])

    assert checked(seller_client.get(edit).content.decode()) == [kind]
    # A post without the radios (a script) keeps it rather than refusing or resetting.
    response = seller_client.post(edit, {**LISTING, "stock_shown": ""})

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.kind == kind
    assert product.title == "Oak board"


def test_staff_choose_the_kind_of_a_product_they_add_too(seller):
    form = ProductAdminForm({**LISTING, "seller": seller.pk, "slug": "oak-board", "active": "on"})
    assert form.errors["kind"] == [KIND_REQUIRED]
    assert "kind" not in ProductAdminForm().initial


def test_an_explicit_initial_kind_is_kept():
    assert ProductForm(initial={"kind": "shipped"})["kind"].value() == "shipped"


def test_the_admin_add_page_preselects_neither_kind(client):
    client.force_login(StaffFactory(password=None))
    page = client.get(reverse("admin:shop_product_add")).content.decode()
    assert checked(page) == []


def test_the_api_still_defaults_to_a_service_and_says_so(seller):
    from rest_framework.test import APIClient

    from shop.api.seller_serializers import SellerProductInputSerializer

    api = APIClient()
    api.force_authenticate(seller)
    response = api.post(
        "/api/seller/products/",
        {"title": "Tune-up", "price": "45.00", "currency": "usd"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "service"
    help_text = str(SellerProductInputSerializer().fields["kind"].help_text)
    assert "service" in help_text
    assert "default" in help_text
