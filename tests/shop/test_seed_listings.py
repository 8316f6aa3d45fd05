"""seed_demo gives the demo sellers shops, categories and photos drawn at seed time."""

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from shop.models import Category, Product, ProductPhoto, Storefront

pytestmark = pytest.mark.django_db


def test_demo_sellers_get_shops_categorised_products_and_photos(settings, capsys):
    settings.STRIPE_API_BASE = ""  # no sandbox: nothing to onboard
    call_command("seed_demo")

    shops = dict(Storefront.objects.values_list("seller__email", "slug"))
    assert shops == {"alice@example.com": "alices-workshop", "bob@example.com": "bobs-bike-repair"}
    assert Storefront.objects.get(slug="alices-workshop").name == "Alice's Workshop"
    assert set(Category.objects.values_list("slug", flat=True)) == {
        "woodwork",
        "bike-repair",
        "classes",
    }
    assert not Product.objects.filter(category=None).exists()
    for product in Product.objects.all():
        photos = list(product.photos.all())
        assert [p.alt_text for p in photos] == [product.title, f"{product.title}, close up"]
        assert all(default_storage.exists(p.thumbnail.name) for p in photos)
    assert Product.objects.get(slug="walnut-bowl").category.slug == "woodwork"

    capsys.readouterr()
    call_command("seed_demo")  # again: nothing new
    assert ProductPhoto.objects.count() == 12
    assert Storefront.objects.count() == 2
    assert "Demo data ready (0 new rows)." in capsys.readouterr().out


def test_demo_products_ship_or_are_services_with_some_stock_and_one_sold_out(settings):
    settings.STRIPE_API_BASE = ""
    call_command("seed_demo")

    products = {p.slug: (p.kind, p.stock, p.sold_out) for p in Product.objects.all()}
    assert products == {
        "oak-cutting-board": ("shipped", 12, False),
        "walnut-bowl": ("shipped", 0, True),
        "carving-class": ("service", 6, False),
        "bike-tune-up": ("service", None, False),
        "puncture-repair": ("service", None, False),
        "wheel-truing": ("service", 20, False),
    }
    # A second run leaves what was sold since alone.
    Product.objects.filter(slug="oak-cutting-board").update(stock=11)
    call_command("seed_demo")
    assert Product.objects.get(slug="oak-cutting-board").stock == 11
