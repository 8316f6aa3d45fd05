import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop import selectors
from shop.models import Product
from shop.services import product_save
from tests.factories import BuyerFactory, ContractorFactory, ProductFactory

pytestmark = pytest.mark.django_db

_account_numbers = itertools.count(1)


def payable_contractor(**profile):
    """A contractor whose connected account can take charges."""
    profile = {
        "charges_enabled": True,
        "stripe_id": f"acct_cat{next(_account_numbers)}",
        **profile,
    }
    # No password: hashing one is most of a test's run time, and these users never log in.
    return ContractorFactory(
        password=None, **{f"profile__{name}": value for name, value in profile.items()}
    )


def buyable_product(seller=None, **fields):
    return ProductFactory(seller=seller or payable_contractor(), **fields)


def listed_titles(client, **params):
    response = client.get(reverse("shop:product_list"), params)
    assert response.status_code == 200
    return [product.title for product in response.context["page"].object_list]


def test_product_list_shows_buyable_products_with_prices(client):
    buyable_product(title="Oak board", price_amount=4500)
    buyable_product(title="Hidden", active=False)

    response = client.get(reverse("shop:product_list"))
    page = response.content.decode()

    assert "Oak board" in page
    assert "$45.00" in page
    assert "Hidden" not in page


def test_catalogue_lists_only_products_of_contractors_who_can_take_charges():
    seller = payable_contractor()
    buyable_product(seller=seller, title="Buyable")
    buyable_product(seller=seller, title="Inactive", active=False)
    ProductFactory(title="Charges disabled", seller=payable_contractor(charges_enabled=False))
    ProductFactory(title="No account", seller=payable_contractor(stripe_id=""))
    ProductFactory(title="Not onboarded", seller=ContractorFactory(password=None))

    titles = [product.title for product in selectors.product_list()]

    assert titles == ["Buyable"]


def test_product_is_buyable_matches_the_catalogue_filter():
    products = [
        buyable_product(),
        buyable_product(active=False),
        ProductFactory(seller=payable_contractor(charges_enabled=False)),
        ProductFactory(seller=payable_contractor(stripe_id="")),
    ]
    listed = set(selectors.product_list().values_list("pk", flat=True))

    assert len(listed) == 1
    for product in Product.objects.select_related("seller__profile").filter(
        pk__in=[p.pk for p in products]
    ):
        assert selectors.product_is_buyable(product) is (product.pk in listed)


def test_search_matches_title_and_description_case_insensitively(client):
    buyable_product(title="Oak board", description="Sanded smooth.")
    buyable_product(title="Walnut bowl", description="Turned by hand.")
    buyable_product(title="Chair", description="Made of WALNUT and ash.")
    ProductFactory(title="Walnut spoon", seller=payable_contractor(charges_enabled=False))

    assert sorted(listed_titles(client, q="walnut")) == ["Chair", "Walnut bowl"]
    assert listed_titles(client, q="SANDED") == ["Oak board"]
    assert listed_titles(client, q="  oak  ") == ["Oak board"]
    assert listed_titles(client, q="teak") == []


def test_search_without_matches_says_so(client):
    buyable_product(title="Oak board")

    page = client.get(reverse("shop:product_list"), {"q": "teak"}).content.decode()

    assert "No products match “teak”." in page


def _follow(client, query):
    response = client.get(reverse("shop:product_list") + "?" + query)
    assert response.status_code == 200
    return response.context["page"]


def test_pagination_24_per_page_newest_first_keeps_the_search(client):
    seller = payable_contractor()
    for n in range(30):
        buyable_product(seller=seller, title=f"Lamp {n}")
    buyable_product(seller=seller, title="Table")

    first = _follow(client, "q=lamp")
    second = _follow(client, first.next_query)
    back = _follow(client, second.previous_query)

    assert [p.title for p in first.object_list] == [f"Lamp {n}" for n in range(29, 5, -1)]
    assert [p.title for p in second.object_list] == [f"Lamp {n}" for n in range(5, -1, -1)]
    assert (first.previous_query, second.next_query) == ("", "")
    assert "q=lamp" in first.next_query
    assert "cursor=" in first.next_query
    assert back.object_list == first.object_list
    html = client.get(reverse("shop:product_list"), {"q": "lamp"}).content.decode()
    assert f'href="?{first.next_query.replace("&", "&amp;")}" rel="next">Older' in html


def test_pages_cover_products_created_at_the_same_instant_exactly_once(client):
    seller = payable_contractor()
    products = [buyable_product(seller=seller, title=f"Twin {n}") for n in range(50)]
    Product.objects.filter(pk__in=[p.pk for p in products[10:40]]).update(
        created_at=products[10].created_at
    )

    seen, page = [], _follow(client, "")
    seen += page.object_list
    while page.next_query:
        page = _follow(client, page.next_query)
        seen += page.object_list

    assert sorted(p.pk for p in seen) == sorted(p.pk for p in products)


@pytest.mark.parametrize(
    "cursor",
    ["x", "cD0yMDI2", "cD1ub3QtYS1kYXRl", "bz0xMCZwPTIwMjYtMTMtNDArOTk6OTk="],
    ids=["garbage", "truncated-date", "not-a-date", "impossible-date"],
)
def test_an_edited_cursor_shows_the_newest_products(client, cursor):
    products = [buyable_product(title=f"Cup {n}") for n in range(3)]

    page = _follow(client, f"cursor={cursor}")

    assert [p.title for p in page.object_list] == [p.title for p in reversed(products)]


def _queries_for_list_page(client, count):
    seller_pool = [payable_contractor() for _ in range(2)]
    for n in range(count):
        buyable_product(seller=seller_pool[n % 2], title=f"Item {n}")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("shop:product_list"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(count, 24)
    return len(queries)


@pytest.mark.parametrize("logged_in", [False, True])
def test_catalogue_query_count_does_not_grow_with_products(client, logged_in):
    if logged_in:
        client.force_login(BuyerFactory())
    few = _queries_for_list_page(client, 5)
    # Same database, many more products (and sellers on the page): same number of queries.
    seller_pool = [payable_contractor() for _ in range(8)]
    for n in range(55):
        buyable_product(seller=seller_pool[n % 8], title=f"More {n}")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("shop:product_list"))
    assert len(response.context["page"].object_list) == 24
    assert len(queries) == few
    # The page itself is one query: its rows (with their first photo and shop), read one
    # beyond the page to tell whether an older page exists, and no count; plus the
    # categories and the currencies for the filters (a logged-in user adds the session,
    # the user, their profile and the unread count for the navigation).
    assert few == (7 if logged_in else 3)


def test_catalogue_query_count_is_bounded(client, django_assert_max_num_queries):
    seller_pool = [payable_contractor() for _ in range(6)]
    for n in range(60):
        buyable_product(seller=seller_pool[n % 6])
    with django_assert_max_num_queries(3):  # rows, categories, currencies
        client.get(reverse("shop:product_list")).content.decode()


def test_buyable_product_page_offers_add_to_cart(client):
    product = buyable_product(title="Oak board", description="Hand-finished.")

    response = client.get(product.get_absolute_url())
    page = response.content.decode()

    assert response.status_code == 200
    assert "Hand-finished." in page
    assert f'action="{reverse("shop:cart_add", args=[product.pk])}"' in page
    assert 'method="post"' in page
    assert 'name="quantity"' in page
    assert 'min="1" max="99"' in page
    assert '<label for="quantity">Quantity</label>' in page
    assert "Add to cart</button>" in page
    assert "cannot take payments" not in page


@pytest.mark.parametrize(
    "profile",
    [{"charges_enabled": False}, {"stripe_id": ""}],
    ids=["charges-disabled", "no-connected-account"],
)
def test_unbuyable_product_page_says_the_contractor_cannot_take_payments(client, profile):
    product = ProductFactory(title="Oak board", seller=payable_contractor(**profile))

    response = client.get(product.get_absolute_url())
    page = response.content.decode()

    assert response.status_code == 200
    assert "Oak board" in page
    assert "This contractor cannot take payments yet." in page
    assert "Add to cart" not in page
    assert reverse("shop:cart_add", args=[product.pk]) not in page


def test_inactive_and_missing_products_are_404(client):
    inactive = buyable_product(active=False)

    assert client.get(inactive.get_absolute_url()).status_code == 404
    missing = client.get(reverse("shop:product_detail", kwargs={"slug": "nope"}))
    assert missing.status_code == 404


def test_product_page_says_how_many_are_in_the_cart(client):
    product = buyable_product()
    client.post(reverse("shop:cart_add", args=[product.pk]), {"quantity": "3"})

    page = client.get(product.get_absolute_url()).content.decode()

    assert "You have 3 in your cart." in page
    assert f'href="{reverse("shop:cart")}"' in page


def test_catalogue_pages_refuse_post(client):
    product = buyable_product()

    assert client.post(reverse("shop:product_list")).status_code == 405
    assert client.post(product.get_absolute_url()).status_code == 405


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
def test_search_has_trigram_indexes_on_the_expressions_it_filters_on():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'shop_product' "
            "AND indexdef LIKE '%gin_trgm_ops%'"
        )
        indexes = dict(cursor.fetchall())
    sql = str(selectors.product_list(search="walnut").query).lower()

    assert set(indexes) == {"shop_product_title_trgm", "shop_product_description_trgm"}
    # The index expressions are the ones icontains generates, or the planner cannot use them.
    assert 'upper("shop_product"."title"::text) like' in sql
    assert 'upper("shop_product"."description"::text) like' in sql
    assert "upper((title)::text)" in indexes["shop_product_title_trgm"]
    assert "upper(description)" in indexes["shop_product_description_trgm"]


def test_products_leave_and_rejoin_the_catalogue_with_the_sellers_account():
    from payments.services.connect import profile_apply_account

    seller = payable_contractor()
    account_id = seller.profile.stripe_id
    products = [buyable_product(seller=seller), buyable_product(seller=seller)]
    other = buyable_product()

    def listed():
        return set(selectors.product_list().values_list("pk", flat=True))

    profile_apply_account({"id": account_id, "charges_enabled": False})
    assert listed() == {other.pk}
    profile_apply_account({"id": account_id, "charges_enabled": True})
    assert listed() == {other.pk, *(p.pk for p in products)}


def test_a_product_moved_to_another_seller_follows_that_sellers_account():
    product = buyable_product()
    product.seller = payable_contractor(charges_enabled=False)
    product_save(product=product, update_fields=["seller"])

    assert Product.objects.get(pk=product.pk).seller_can_charge is False
    assert not selectors.product_list().exists()


def test_saving_a_product_reads_no_profile_the_service_does(django_assert_num_queries):
    product = buyable_product()

    with django_assert_num_queries(1):  # the UPDATE alone
        product.save(update_fields=["title"])
    with django_assert_num_queries(2):  # the seller's profile, then the UPDATE
        product_save(product=product, update_fields=["title"])
    assert Product.objects.get(pk=product.pk).seller_can_charge is True


def test_a_product_added_in_the_admin_is_buyable_at_once(client):
    from tests.factories import StaffFactory

    seller = payable_contractor()
    client.force_login(StaffFactory(password=None))

    response = client.post(
        reverse("admin:shop_product_add"),
        {
            "seller": seller.pk,
            "title": "Admin board",
            "slug": "admin-board",
            "description": "",
            "price": "12.00",
            "currency": "usd",
            "active": "on",
            "kind": "service",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    product = Product.objects.get(slug="admin-board")
    assert product.seller_can_charge is True
    assert [p.pk for p in selectors.product_list()] == [product.pk]
