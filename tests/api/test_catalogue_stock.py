"""The public catalogue shows how many are left, whether a product is sold out, and
whether it ships."""

import pytest

from shop.models import Product
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_the_catalogue_says_what_is_left_and_what_is_sold_out(anon, seller):
    ProductFactory(seller=seller, slug="unlimited", stock=None)
    ProductFactory(seller=seller, slug="three-left", stock=3, kind=Product.Kind.SHIPPED)
    ProductFactory(seller=seller, slug="gone", stock=0)

    body = anon.get("/api/products/").json()

    found = {p["slug"]: (p["stock"], p["sold_out"], p["kind"]) for p in body["results"]}
    assert found == {
        "unlimited": (None, False, "service"),
        "three-left": (3, False, "shipped"),
        "gone": (0, True, "service"),
    }
    detail = anon.get("/api/products/gone/").json()
    assert (detail["stock"], detail["sold_out"]) == (0, True)
