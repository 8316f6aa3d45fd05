"""GET /api/products/ and /api/products/{slug}/: anyone may read the catalogue."""

import pytest

from tests.factories import ContractorFactory, ProductFactory

pytestmark = pytest.mark.django_db

LIST = "/api/products/"


def test_anonymous_lists_buyable_products_newest_first_with_money_and_seller(anon, product):
    older = ProductFactory(seller=product.seller, title="Older", price_amount=1999)
    older.created_at = product.created_at.replace(year=2020)
    older.save(update_fields=["created_at"])
    unpublished = ProductFactory(seller=product.seller, active=False)
    not_onboarded = ProductFactory()  # its seller cannot take payments yet

    response = anon.get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [p["slug"] for p in body["results"]] == [product.slug, older.slug]
    assert unpublished.slug not in str(body)
    assert not_onboarded.slug not in str(body)
    assert body["results"][0] == {
        "id": product.pk,
        "slug": product.slug,
        "title": "Garden tidy",
        "description": "",
        "price_amount": 4500,
        "currency": "usd",
        "price_display": "$45.00",
        "seller": {"id": product.seller_id, "name": product.seller.profile.name},
        "shop": None,
        "category": None,
        "thumbnail": None,
        "stock": None,
        "sold_out": False,
        "kind": "service",
        "created_at": product.created_at.isoformat().replace("+00:00", "Z"),
    }


def test_pagination_with_page_size(anon, seller):
    for n in range(5):
        ProductFactory(seller=seller, slug=f"page-{n}")

    first = anon.get(LIST, {"page_size": 2}).json()
    third = anon.get(LIST, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["next"].endswith("/api/products/?page=2&page_size=2")
    assert first["previous"] is None
    assert len(third["results"]) == 1
    assert third["next"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"seller": "abc"}, "seller"),
        ({"seller": "0"}, "seller"),
        ({"seller": str(2**63)}, "seller"),
        ({"currency": "dollars"}, "currency"),
        ({"search": "x" * 101}, "search"),
        ({"search": "nul\x00byte"}, "search"),
    ],
)
def test_bad_query_parameters_are_400_with_the_field(anon, params, field):
    response = anon.get(LIST, params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]


def test_a_page_past_the_end_is_404_in_the_error_format(anon, product):
    response = anon.get(LIST, {"page": 9})

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Invalid page.", "fields": {}}
    }


def test_filters_by_seller_currency_and_search(anon, seller, other_seller):
    mine = ProductFactory(seller=seller, title="Hedge trimming", currency="usd")
    ProductFactory(seller=seller, title="Hedge trimming in euros", currency="eur")
    theirs = ProductFactory(seller=other_seller, title="Lawn mowing", description="Hedges too")

    def slugs(**params):
        return [p["slug"] for p in anon.get(LIST, params).json()["results"]]

    assert slugs(seller=seller.pk, currency="USD") == [mine.slug]
    assert slugs(seller=other_seller.pk) == [theirs.slug]
    assert slugs(search="  hedge ", currency="usd") == [theirs.slug, mine.slug]
    assert slugs(search="mowing") == [theirs.slug]
    assert slugs(seller=999999) == []


def test_detail_by_slug_says_whether_it_can_be_bought(anon, product):
    stuck = ProductFactory(seller=ContractorFactory(), slug="not-yet")

    buyable = anon.get(f"/api/products/{product.slug}/")
    not_buyable = anon.get(f"/api/products/{stuck.slug}/")

    assert buyable.status_code == 200
    assert buyable.json()["buyable"] is True
    assert buyable.json()["price_display"] == "$45.00"
    assert not_buyable.status_code == 200
    assert not_buyable.json()["buyable"] is False


def test_detail_of_a_missing_or_inactive_product_is_404(anon, product):
    ProductFactory(seller=product.seller, slug="withdrawn", active=False)

    for slug in ["nope", "withdrawn"]:
        response = anon.get(f"/api/products/{slug}/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_products_are_read_only(buyer_api, product):
    response = buyer_api.post(LIST, {}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(
    anon, seller, other_seller, rows, django_assert_max_num_queries
):
    for n in range(rows):
        ProductFactory(seller=seller if n % 2 else other_seller, slug=f"q-{n}")

    with django_assert_max_num_queries(2):  # count + one page, sellers joined
        response = anon.get(LIST, {"page_size": 100})

    assert len(response.json()["results"]) == rows
