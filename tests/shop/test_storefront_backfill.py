"""Every contractor with products has a storefront: products staff add in admin make
one, and a data migration makes one for sellers whose products came before shops."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from shop.models import Product, Storefront
from shop.storefront import storefront_ensure
from tests.factories import BuyerFactory, ContractorFactory, ProductFactory, StaffFactory
from tests.shop.conftest import onboarded_contractor

pytestmark = pytest.mark.django_db

MIGRATION = "shop.migrations.0008_storefronts_for_sellers_with_products"


def backfill() -> None:
    importlib.import_module(MIGRATION).storefronts_create(apps, None)


# --- Staff's product admin ----------------------------------------------------------


def admin_product(seller, **fields) -> dict:
    return {
        "seller": seller.pk,
        "title": "Admin board",
        "slug": "admin-board",
        "category": "",
        "description": "",
        "price": "45.00",
        "currency": "usd",
        "kind": "shipped",
        "active": "on",
        **fields,
    }


def test_a_product_added_in_admin_gives_its_seller_a_shop_the_product_page_links(client):
    seller = onboarded_contractor(profile__display_name="Bea's Bowls")
    client.force_login(StaffFactory(password=None))

    response = client.post(reverse("admin:shop_product_add"), admin_product(seller))

    assert response.status_code == 302, response.content.decode()[:2000]
    shop = Storefront.objects.get(seller=seller)
    assert (shop.name, shop.slug) == ("Bea's Bowls", "beas-bowls")
    page = client.get(Product.objects.get(slug="admin-board").get_absolute_url()).content
    assert f'<a href="{shop.get_absolute_url()}">' in page.decode()


def test_saving_in_admin_keeps_the_shop_the_seller_has(client):
    seller = onboarded_contractor(profile__display_name="Bea's Bowls")
    shop = storefront_ensure(seller=seller)
    Storefront.objects.filter(pk=shop.pk).update(name="Renamed", slug="renamed")
    product = ProductFactory(seller=seller, slug="admin-board")
    client.force_login(StaffFactory(password=None))

    response = client.post(
        reverse("admin:shop_product_change", args=[product.pk]),
        {
            **admin_product(seller, title="Changed", stock_shown=""),
            # The photos inline's management form (the product has none).
            "photos-TOTAL_FORMS": "0",
            "photos-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(Storefront.objects.filter(seller=seller).values_list("slug", flat=True)) == [
        "renamed"
    ]


# --- The data migration -------------------------------------------------------------


def test_the_migration_gives_each_contractor_with_products_a_shop():
    named = ContractorFactory(profile__display_name="Carl's Canoes", email="carl@example.com")
    unnamed = ContractorFactory(profile__display_name="", email="dora.k@example.com")
    ProductFactory(seller=named)
    ProductFactory(seller=named)
    ProductFactory(seller=unnamed)
    without_products = ContractorFactory(profile__display_name="Idle")

    backfill()

    shops = {s.seller_id: (s.name, s.slug) for s in Storefront.objects.all()}
    assert shops == {
        named.pk: ("Carl's Canoes", "carls-canoes"),
        unnamed.pk: ("dora.k", "dorak"),
    }
    assert without_products.pk not in shops


def test_the_migration_leaves_existing_shops_and_finds_free_addresses():
    owner = ContractorFactory(profile__display_name="Twin Shop")
    kept = storefront_ensure(seller=owner)
    ProductFactory(seller=owner)
    namesake = ContractorFactory(profile__display_name="Twin Shop")
    ProductFactory(seller=namesake)
    odd = ContractorFactory(profile__display_name="Ωmega__ ** ")  # nothing left to slug
    ProductFactory(seller=odd)

    backfill()
    backfill()  # run again (re-applied migrations, a retried deploy): nothing more

    assert Storefront.objects.count() == 3
    assert Storefront.objects.get(seller=owner) == kept
    assert kept.slug == "twin-shop"
    twin = Storefront.objects.get(seller=namesake)
    assert twin.name == "Twin Shop"
    assert twin.slug.startswith("twin-shop-")
    assert twin.slug != kept.slug
    assert Storefront.objects.get(seller=odd).slug == "mega"


def test_the_migration_makes_no_shop_for_a_buyer_who_owns_a_product():
    # Old admin let staff pick any user as a seller: a buyer is not a shop.
    buyer = BuyerFactory()
    ProductFactory(seller=buyer)

    backfill()

    assert not Storefront.objects.exists()


def test_a_long_name_fits_the_shop_name_and_address():
    seller = ContractorFactory(profile__display_name="Woodwork " * 13)  # 117 characters
    ProductFactory(seller=seller)

    backfill()

    shop = Storefront.objects.get(seller=seller)
    assert len(shop.name) == 100
    assert len(shop.slug) <= 60
    assert shop.slug.startswith("woodwork-woodwork")
    assert not shop.slug.endswith("-")
    shop.full_clean()  # within the fields' lengths and the slug's rule
