"""Staff's product admin uses the sellers' form: major units, fee check, contractors only."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from shop import listings
from shop.models import Category, Product
from tests.factories import BuyerFactory, ProductFactory, StaffFactory, image_bytes
from tests.shop.conftest import upload

pytestmark = pytest.mark.django_db

ADD = reverse("admin:shop_product_add")


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory(password=None))
    return client


def post(seller, **fields):
    return {
        "seller": seller.pk,
        "title": "Admin board",
        "slug": "admin-board",
        "category": "",
        "description": "",
        "price": "45.00",
        "currency": "usd",
        "active": "on",
        "kind": "service",  # a new product says what it is (no default is preselected)
        **fields,
    }


def test_staff_type_prices_in_major_units(staff_client, seller):
    response = staff_client.post(ADD, post(seller, currency="jpy", price="1,500"))

    assert response.status_code == 302
    assert Product.objects.get(slug="admin-board").price_amount == 1500


def test_the_change_form_shows_the_price_in_major_units(staff_client, seller):
    product = ProductFactory(seller=seller, price_amount=4550)

    response = staff_client.get(reverse("admin:shop_product_change", args=[product.pk]))

    assert response.context["adminform"].form["price"].value() == "45.50"
    assert "price_amount" not in response.context["adminform"].form.fields


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"price": "45.001"}, "price", "USD allows at most 2 decimal places."),
        ({"currency": "usd", "price": "0.3"}, "price", "The lowest price in USD is $0.50"),
        ({"currency": "cad"}, "currency", "Select a valid choice."),
    ],
)
def test_the_admin_refuses_what_sellers_are_refused(staff_client, seller, fields, field, message):
    response = staff_client.post(ADD, post(seller, **fields))

    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors[field][0]
    assert not Product.objects.exists()


def test_the_admin_refuses_a_price_the_fee_would_eat(staff_client, seller, settings):
    settings.PLATFORM_FEE_FIXED = 500

    response = staff_client.post(ADD, post(seller, price="5.00"))

    assert response.context["adminform"].form.errors["price"] == [
        "The platform fee on $5.00 is $5.00, which would leave you nothing. Set a higher price."
    ]


def test_only_contractors_can_be_a_products_seller(staff_client, seller):
    buyer = BuyerFactory()
    page = staff_client.get(ADD)

    response = staff_client.post(ADD, post(buyer))

    choices = [value for value, _ in page.context["adminform"].form.fields["seller"].choices]
    assert seller.pk in [getattr(v, "value", v) for v in choices]
    assert buyer.pk not in [getattr(v, "value", v) for v in choices]
    assert "Select a valid choice" in response.context["adminform"].form.errors["seller"][0]


def test_an_archived_product_cannot_be_listed_again_from_admin(staff_client, seller):
    product = listings.product_archive(product=ProductFactory(seller=seller, slug="gone"))

    response = staff_client.post(
        reverse("admin:shop_product_change", args=[product.pk]), post(seller, slug="gone")
    )

    assert "cannot be listed again" in response.context["adminform"].form.errors["active"][0]
    assert not Product.objects.get(pk=product.pk).active


def test_staff_archive_products_and_remove_photos_with_their_files(
    staff_client, seller, django_capture_on_commit_callbacks
):
    product = ProductFactory(seller=seller)
    photo = listings.photo_add(product=product, upload=upload(image_bytes()), alt_text="x")
    changelist = reverse("admin:shop_product_changelist")

    staff_client.post(changelist, {"action": "archive_action", "_selected_action": [product.pk]})
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("admin:shop_productphoto_delete", args=[photo.pk]), {"post": "yes"}
        )

    assert Product.objects.get(pk=product.pk).listing_status == "archived"
    assert not product.photos.exists()
    assert not default_storage.exists(photo.image.name)


def test_categories_are_managed_by_staff(staff_client):
    response = staff_client.post(
        reverse("admin:shop_category_add"), {"name": "Woodwork", "slug": "woodwork", "position": 1}
    )

    assert response.status_code == 302
    assert Category.objects.get().name == "Woodwork"
