"""Prices in several currencies: the catalogue filters by currency (a choice shown only
when there is one to make), and sorted by price it groups the currencies rather than
comparing minor units across them ($10.00 is 1000, ¥1,500 is 1500)."""

import pytest
from django.urls import reverse

from shop.storefront import storefront_ensure
from shop.views import CURRENCY_THEN_PRICE
from tests.factories import ProductFactory
from tests.shop.conftest import onboarded_contractor

pytestmark = pytest.mark.django_db

LIST = reverse("shop:product_list")


@pytest.fixture
def mixed(seller):
    other = onboarded_contractor(profile__display_name="Tokyo Tools")
    for title, amount, currency, who in [
        ("Ten dollars", 1000, "usd", seller),
        ("Yen 1500", 1500, "jpy", other),
        ("Twenty dollars", 2000, "usd", seller),
        ("Yen 800", 800, "jpy", other),
        ("Five euros", 500, "eur", seller),
    ]:
        ProductFactory(seller=who, title=title, price_amount=amount, currency=currency)
    ProductFactory(seller=seller, title="Paused pounds", currency="gbp", active=False)


def titles(client, url=LIST, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return [p.title for p in response.context["page"].object_list]


def test_price_order_groups_currencies_and_never_interleaves_them(client, mixed):
    assert titles(client, sort="price_asc") == [
        "Five euros",
        "Yen 800",
        "Yen 1500",
        "Ten dollars",
        "Twenty dollars",
    ]
    assert titles(client, sort="price_desc") == [
        "Twenty dollars",
        "Ten dollars",
        "Yen 1500",
        "Yen 800",
        "Five euros",
    ]


def test_a_shops_page_groups_its_currencies_too(client, seller, mixed):
    shop = storefront_ensure(seller=seller)
    assert titles(client, shop.get_absolute_url(), sort="price_asc") == [
        "Five euros",
        "Ten dollars",
        "Twenty dollars",
    ]


def test_the_currency_filter_lists_only_that_currency_in_price_order(client, mixed):
    assert titles(client, currency="jpy", sort="price_asc") == ["Yen 800", "Yen 1500"]
    assert titles(client, currency="USD", sort="price_desc") == ["Twenty dollars", "Ten dollars"]
    page = client.get(LIST, {"currency": "jpy"}).content.decode()
    assert '<option value="jpy" selected>JPY (¥)</option>' in page


def test_the_filter_offers_the_shops_currencies_that_have_products(client, mixed, settings):
    settings.SHOP_CURRENCIES = ["usd", "eur", "gbp", "jpy", "chf"]

    response = client.get(LIST)

    # Not GBP (its only product is paused) nor CHF (nothing priced in it).
    assert [code for code, _ in response.context["currencies"]] == ["usd", "eur", "jpy"]
    page = response.content.decode()
    assert '<select id="currency" name="currency" data-autosubmit>' in page
    assert '<option value="">All currencies</option>' in page


def test_no_currency_choice_when_every_product_is_in_one(client, seller):
    ProductFactory(seller=seller, title="A", currency="usd")
    ProductFactory(seller=seller, title="B", currency="usd")

    response = client.get(LIST)

    assert response.context["currencies"] == []
    assert 'name="currency"' not in response.content.decode()


@pytest.mark.parametrize("currency", ["xyz", "cad", "'; DROP TABLE", ""])
def test_an_unknown_currency_shows_every_currency(client, mixed, currency):
    assert len(titles(client, currency=currency)) == 5


def test_a_currency_without_products_says_so(client, mixed):
    page = client.get(LIST, {"currency": "gbp"}).content.decode()
    assert "No products in GBP yet." in page


def test_pages_in_price_order_cross_currencies_without_losing_or_repeating(client, seller):
    for n in range(30):
        currency = ("usd", "jpy", "eur")[n % 3]
        ProductFactory(seller=seller, title=f"P{n}", currency=currency, price_amount=500 + n * 7)

    seen, response = [], client.get(LIST, {"sort": "price_asc"})
    seen += response.context["page"].object_list
    while response.context["page"].next_query:
        response = client.get(f"{LIST}?{response.context['page'].next_query}")
        seen += response.context["page"].object_list

    assert len(seen) == 30 == len({p.pk for p in seen})
    keys = [(p.currency, p.price_amount) for p in seen]
    assert keys == sorted(keys)
    assert [p.currency for p in seen] == ["eur"] * 10 + ["jpy"] * 10 + ["usd"] * 10
    back = client.get(f"{LIST}?{response.context['page'].previous_query}")
    assert [p.pk for p in back.context["page"].object_list] == [p.pk for p in seen[:24]]


@pytest.mark.parametrize(
    "cursor",
    ["x", "cD0xNTAw", "cD11c2QxMjM="],  # garbage, p=1500 (an old link), p=usd123
    ids=["garbage", "old-price-cursor", "short-price"],
)
def test_an_edited_or_old_price_cursor_starts_from_the_first_page(client, mixed, cursor):
    assert titles(client, sort="price_asc", cursor=cursor)[0] == "Five euros"


def test_positions_are_the_currency_then_the_padded_price():
    pager = CURRENCY_THEN_PRICE["price_asc"]()
    assert pager.position_ok("usd000000000000001500")
    assert not pager.position_ok("1500")
    assert not pager.position_ok("USD000000000000001500")
    assert not pager.position_ok("usd00000000000000150")
