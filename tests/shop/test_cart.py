import itertools

import pytest
from django.contrib.messages import get_messages
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop.cart import (
    MAX_QUANTITY,
    QUANTITY_MESSAGE,
    UNBUYABLE_MESSAGE,
    Cart,
    CartError,
    CartLine,
    parse_quantity,
)
from shop.models import Product
from tests.factories import PASSWORD, BuyerFactory, ContractorFactory, ProductFactory

pytestmark = pytest.mark.django_db

_account_numbers = itertools.count(1)


def payable_contractor(**profile):
    """A contractor whose connected account can take charges."""
    profile = {
        "charges_enabled": True,
        "stripe_id": f"acct_cart{next(_account_numbers)}",
        **profile,
    }
    # No password: hashing one is most of a test's run time, and these users never log in.
    return ContractorFactory(
        password=None, **{f"profile__{name}": value for name, value in profile.items()}
    )


def buyable_product(seller=None, **fields):
    product = ProductFactory(seller=seller or payable_contractor(), **fields)
    # As the views load it: with the seller's profile, so buyability costs no query.
    return Product.objects.select_related("seller__profile").get(pk=product.pk)


@pytest.fixture
def session():
    return SessionStore()


@pytest.fixture
def cart(session):
    return Cart(session)


def flash(response):
    """The message this request added (earlier ones linger until a page shows them)."""
    messages = [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]
    assert messages, "no flash message"
    return messages[-1]


def cart_url(name, product_id):
    return reverse(f"shop:{name}", args=[product_id])


# -- quantities ----------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(1, 1), (99, 99), ("7", 7), (" 12 ", 12)])
def test_parse_quantity_accepts_whole_numbers_from_1_to_99(value, expected):
    assert parse_quantity(value) == expected


BAD_QUANTITIES = (
    [0, -1, 100, 10**30, None, 2.0, True, False, [1]]
    + ["0", "100", "-1", "+3", "1.5", "2.0", "1e2", "abc", "", " "]
    + ["１", "²", "3\n4", "9" * 5000]  # full-width and superscript digits, a newline, huge
)


@pytest.mark.parametrize("value", BAD_QUANTITIES)
def test_parse_quantity_refuses_anything_else_with_a_clear_message(value):
    with pytest.raises(CartError, match=r"^Quantity must be between 1 and 99\.$"):
        parse_quantity(value)


def test_parse_quantity_allows_zero_only_when_asked():
    assert parse_quantity("0", allow_zero=True) == 0
    with pytest.raises(CartError):
        parse_quantity("0")


# -- the Cart class ------------------------------------------------------------------------


def test_add_update_remove_and_clear(cart, session):
    board = buyable_product(title="Oak board")
    bowl = buyable_product(title="Walnut bowl")

    assert cart.add(board) == 1
    assert cart.add(board, 2) == 3
    assert cart.add(bowl, "4") == 4
    assert session["cart"] == {str(board.pk): 3, str(bowl.pk): 4}
    assert cart.count() == 7
    assert len(cart) == 2

    cart.set_quantity(board.pk, 5)
    assert session["cart"][str(board.pk)] == 5
    assert cart.quantity(board.pk) == 5

    cart.set_quantity(board.pk, 0)
    assert str(board.pk) not in session["cart"]

    assert cart.remove(bowl.pk) is True
    assert cart.remove(bowl.pk) is False
    assert session["cart"] == {}

    cart.add(board)
    cart.clear()
    assert cart.count() == 0
    assert cart.lines() == []
    assert cart.totals() == {}


def test_the_cart_survives_in_a_saved_session(session):
    board = buyable_product()
    Cart(session).add(board, 2)
    session.save()

    reloaded = SessionStore(session_key=session.session_key)

    assert Cart(reloaded).quantity(board.pk) == 2


def test_bad_quantities_change_nothing(cart, session):
    board = buyable_product()
    cart.add(board, 98)

    for bad in (0, 100, "x", "-2", 1.5):
        with pytest.raises(CartError, match="between 1 and 99"):
            cart.add(board, bad)
    with pytest.raises(CartError, match="You already have 98"):
        cart.add(board, 2)
    for bad in (-1, 100, "", "two"):
        with pytest.raises(CartError, match="between 1 and 99"):
            cart.set_quantity(board.pk, bad)

    assert session["cart"] == {str(board.pk): 98}
    assert cart.add(board, 1) == MAX_QUANTITY


def test_set_quantity_of_a_product_not_in_the_cart_is_refused(cart):
    with pytest.raises(CartError, match="no longer in your cart"):
        cart.set_quantity(12345, 2)


@pytest.mark.parametrize(
    ("fields", "profile"),
    [
        ({"active": False}, {}),
        ({}, {"charges_enabled": False}),
        ({}, {"stripe_id": ""}),
    ],
    ids=["inactive", "charges-disabled", "no-connected-account"],
)
def test_unbuyable_products_are_refused(cart, session, fields, profile):
    product = buyable_product(seller=payable_contractor(**profile), **fields)

    with pytest.raises(CartError) as error:
        cart.add(product)

    assert str(error.value) == UNBUYABLE_MESSAGE == "This product cannot be bought right now."
    assert "cart" not in session


def test_lines_use_database_prices_and_integer_amounts(cart):
    board = buyable_product(title="Oak board", price_amount=1999, currency="usd")
    cart.add(board, 3)
    Product.objects.filter(pk=board.pk).update(price_amount=2001)  # the price changed since

    (line,) = Cart(cart.session).lines()

    assert line == CartLine(product=line.product, quantity=3, line_amount=6003)
    assert type(line.line_amount) is int
    assert line.currency == "usd"


def test_totals_per_currency_to_the_cent(cart):
    cart.add(buyable_product(price_amount=1999, currency="usd"), 3)  # 59.97
    cart.add(buyable_product(price_amount=1, currency="usd"), 99)  # 0.99
    cart.add(buyable_product(price_amount=1500, currency="jpy"), 2)  # ¥3,000 (no decimals)
    cart.add(buyable_product(price_amount=999, currency="eur"), 1)
    cart.add(buyable_product(price_amount=1005, currency="kwd"), 1)  # three decimals

    assert cart.totals() == {"eur": 999, "jpy": 3000, "kwd": 1005, "usd": 6096}
    assert list(cart.totals()) == ["eur", "jpy", "kwd", "usd"]


def test_lines_are_loaded_with_one_query(cart, django_assert_num_queries):
    sellers = [payable_contractor() for _ in range(3)]
    for n in range(12):
        cart.add(buyable_product(seller=sellers[n % 3]), n % 5 + 1)

    fresh = Cart(cart.session)
    with django_assert_num_queries(1):
        lines = fresh.lines()
        fresh.totals()
        groups = fresh.groups()
        names = [group.seller.profile.name for group in groups]
        titles = [line.product.title for line in lines]

    assert len(lines) == 12
    assert len(names) == 3
    assert len(titles) == 12


def test_count_needs_no_query(cart, django_assert_num_queries):
    cart.add(buyable_product(), 2)
    cart.add(buyable_product(), 5)

    with django_assert_num_queries(0):
        assert Cart(cart.session).count() == 7


def test_vanished_and_unbuyable_products_are_dropped_with_a_notice(cart, session):
    kept = buyable_product(title="Kept", price_amount=1000)
    deleted = buyable_product(title="Deleted")
    hidden = buyable_product(title="Hidden")
    stopped = buyable_product(title="Stopped")
    for product in (kept, deleted, hidden, stopped):
        cart.add(product, 2)
    Product.objects.filter(pk=deleted.pk).delete()
    Product.objects.filter(pk=hidden.pk).update(active=False)
    stopped.seller.profile.charges_enabled = False
    stopped.seller.profile.save()

    fresh = Cart(session)
    lines = fresh.lines()

    assert [line.product.title for line in lines] == ["Kept"]
    assert fresh.totals() == {"usd": 2000}
    assert session["cart"] == {str(kept.pk): 2}
    assert fresh.notices == [
        "An item in your cart is no longer available and was removed.",
        "“Hidden” can no longer be bought and was removed from your cart.",
        "“Stopped” can no longer be bought and was removed from your cart.",
    ]
    # Once dropped, they are gone: the next look says nothing more.
    again = Cart(session)
    again.lines()
    assert again.notices == []


def test_groups_by_contractor_with_subtotals(cart):
    ann = payable_contractor(display_name="Ann")
    bob = payable_contractor(display_name="Bob")
    cart.add(buyable_product(seller=ann, price_amount=1250), 2)
    cart.add(buyable_product(seller=bob, price_amount=700, currency="jpy"), 3)
    cart.add(buyable_product(seller=ann, price_amount=99), 1)
    cart.add(buyable_product(seller=bob, price_amount=300), 1)

    groups = cart.groups()

    assert [group.seller.profile.name for group in groups] == ["Ann", "Bob"]
    assert [len(group.lines) for group in groups] == [2, 2]
    assert groups[0].subtotals == {"usd": 2599}
    assert groups[1].subtotals == {"jpy": 2100, "usd": 300}
    assert cart.totals() == {"jpy": 2100, "usd": 2899}


@pytest.mark.parametrize(
    "stored",
    [
        "not a dict",
        ["1", 2],
        {"abc": 1, "-3": 2, "0": 1, "1.5": 1},
        {"1": 0, "2": 100, "3": "2", "4": 2.0, "5": True, "6": None},
    ],
)
def test_a_tampered_session_is_ignored(session, stored):
    session["cart"] = stored
    cart = Cart(session)

    assert cart.count() == 0
    assert cart.lines() == []


def test_a_tampered_session_keeps_its_valid_lines(session):
    board = buyable_product(price_amount=500)
    session["cart"] = {str(board.pk): 2, "x": 3, "999999": 500}

    cart = Cart(session)

    assert cart.count() == 2
    assert cart.totals() == {"usd": 1000}
    assert session["cart"] == {str(board.pk): 2}


# -- views -----------------------------------------------------------------------------------


def test_add_to_cart_redirects_to_the_product_with_a_message(client):
    board = buyable_product(title="Oak board")

    response = client.post(cart_url("cart_add", board.pk), {"quantity": "2"})

    assert response.status_code == 302
    assert response.url == board.get_absolute_url()
    assert flash(response) == ("success", "Added 2 items of “Oak board” to your cart.")
    assert client.session["cart"] == {str(board.pk): 2}


def test_add_defaults_to_one_and_accumulates(client):
    board = buyable_product(title="Oak board")

    client.post(cart_url("cart_add", board.pk))
    response = client.post(cart_url("cart_add", board.pk))

    assert flash(response) == ("success", "Added 1 item of “Oak board” to your cart.")
    assert client.session["cart"] == {str(board.pk): 2}


def test_add_can_return_to_the_cart_but_never_off_site(client):
    board = buyable_product()

    to_cart = client.post(cart_url("cart_add", board.pk), {"next": reverse("shop:cart")})
    off_site = client.post(cart_url("cart_add", board.pk), {"next": "https://evil.example/"})

    assert to_cart.url == reverse("shop:cart")
    assert off_site.url == board.get_absolute_url()


@pytest.mark.parametrize("quantity", ["0", "100", "-1", "1.5", "lots", "", "9" * 5000])
def test_add_with_a_bad_quantity_flashes_an_error_and_changes_nothing(client, quantity):
    board = buyable_product()
    client.post(cart_url("cart_add", board.pk), {"quantity": "3"})

    response = client.post(cart_url("cart_add", board.pk), {"quantity": quantity})

    assert response.status_code == 302
    assert flash(response) == ("error", QUANTITY_MESSAGE)
    assert client.session["cart"] == {str(board.pk): 3}


def test_add_an_unbuyable_product_flashes_an_error(client):
    product = buyable_product(seller=payable_contractor(charges_enabled=False))

    response = client.post(cart_url("cart_add", product.pk), {"quantity": "1"})

    assert response.status_code == 302
    assert response.url == product.get_absolute_url()
    assert flash(response) == ("error", "This product cannot be bought right now.")
    assert "cart" not in client.session


@pytest.mark.parametrize("product_id", [999999, 2**63 - 1, 10**30])
def test_add_an_unknown_product_is_404(client, product_id):
    response = client.post(cart_url("cart_add", product_id), {"quantity": "1"})

    assert response.status_code == 404
    assert "cart" not in client.session


def test_add_an_inactive_product_is_404(client):
    product = buyable_product(active=False)

    assert client.post(cart_url("cart_add", product.pk)).status_code == 404


def test_the_browser_cannot_set_a_price(client):
    board = buyable_product(price_amount=4500)

    client.post(
        cart_url("cart_add", board.pk),
        {"quantity": "2", "price_amount": "1", "line_amount": "1", "amount": "1"},
    )
    response = client.get(reverse("shop:cart"), {"price_amount": "1"})

    assert response.context["totals"] == {"usd": 9000}
    assert "$90.00" in response.content.decode()


@pytest.mark.parametrize("name", ["cart_add", "cart_update", "cart_remove"])
def test_post_only_urls_refuse_get_with_405(client, name):
    board = buyable_product()

    assert client.get(cart_url(name, board.pk)).status_code == 405


def test_the_cart_page_refuses_post(client):
    assert client.post(reverse("shop:cart")).status_code == 405


def test_update_and_remove(client):
    board = buyable_product()
    bowl = buyable_product()
    client.post(cart_url("cart_add", board.pk), {"quantity": "2"})
    client.post(cart_url("cart_add", bowl.pk), {"quantity": "1"})

    updated = client.post(cart_url("cart_update", board.pk), {"quantity": "7"})
    assert updated.url == reverse("shop:cart")
    assert flash(updated) == ("success", "Your cart was updated.")
    assert client.session["cart"] == {str(board.pk): 7, str(bowl.pk): 1}

    zero = client.post(cart_url("cart_update", bowl.pk), {"quantity": "0"})
    assert zero.status_code == 302
    assert client.session["cart"] == {str(board.pk): 7}

    removed = client.post(cart_url("cart_remove", board.pk))
    assert removed.url == reverse("shop:cart")
    assert flash(removed) == ("success", "The item was removed from your cart.")
    assert client.session["cart"] == {}


@pytest.mark.parametrize("quantity", ["100", "-1", "x", ""])
def test_update_with_a_bad_quantity_flashes_an_error_and_changes_nothing(client, quantity):
    board = buyable_product()
    client.post(cart_url("cart_add", board.pk), {"quantity": "2"})

    response = client.post(cart_url("cart_update", board.pk), {"quantity": quantity})

    assert response.status_code == 302
    assert flash(response) == ("error", QUANTITY_MESSAGE)
    assert client.session["cart"] == {str(board.pk): 2}


def test_update_or_remove_of_something_not_in_the_cart_is_a_message(client):
    updated = client.post(cart_url("cart_update", 424242), {"quantity": "2"})
    removed = client.post(cart_url("cart_remove", 10**30))

    assert updated.status_code == removed.status_code == 302
    assert flash(updated) == ("error", "This product is no longer in your cart.")
    assert flash(removed) == ("info", "That item was not in your cart.")


def test_empty_cart_page_links_to_the_shop(client):
    response = client.get(reverse("shop:cart"))
    page = response.content.decode()

    assert response.status_code == 200
    assert "Your cart is empty." in page
    assert f'href="{reverse("shop:product_list")}"' in page
    assert "Checkout" not in page


def test_cart_page_groups_lines_by_contractor_with_subtotals_and_totals(client):
    client.force_login(BuyerFactory(password=None))
    ann = payable_contractor(display_name="Ann's Workshop")
    bob = payable_contractor(display_name="Bob Turner")
    board = buyable_product(seller=ann, title="Oak board", price_amount=1999)
    spoon = buyable_product(seller=ann, title="Spoon", price_amount=250)
    bowl = buyable_product(seller=bob, title="Walnut bowl", price_amount=4500)
    client.post(cart_url("cart_add", board.pk), {"quantity": "3"})
    client.post(cart_url("cart_add", spoon.pk), {"quantity": "2"})
    client.post(cart_url("cart_add", bowl.pk), {"quantity": "1"})

    response = client.get(reverse("shop:cart"))
    page = response.content.decode()

    assert response.status_code == 200
    assert "From Ann&#x27;s Workshop" in page
    assert "From Bob Turner" in page
    assert page.index("Oak board") < page.index("Spoon") < page.index("Walnut bowl")
    assert "$59.97" in page  # 3 × 19.99
    assert "$64.97" in page  # Ann's subtotal
    assert "$45.00" in page  # Bob's subtotal
    assert "$109.97" in page  # total
    assert response.context["totals"] == {"usd": 10997}
    assert "Items in different currencies are paid separately" not in page
    # Forms: labelled quantity inputs, update and remove buttons, and the checkout.
    assert f'action="{cart_url("cart_update", board.pk)}"' in page
    assert f'<label for="quantity-{board.pk}">Quantity</label>' in page
    assert f'action="{cart_url("cart_remove", board.pk)}"' in page
    assert 'Remove<span class="visually-hidden"> Oak board</span>' in page
    assert '<button type="submit" class="button">Checkout</button>' in page
    assert page.count("csrfmiddlewaretoken") >= 7


def test_the_checkout_button_posts_to_the_checkout(client):
    client.force_login(BuyerFactory(password=None))
    board = buyable_product()
    client.post(cart_url("cart_add", board.pk))

    page = client.get(reverse("shop:cart")).content.decode()

    checkout = page[page.index("<form", page.index('id="cart-total"')) :]
    assert checkout.startswith(f'<form method="post" action="{reverse("shop:checkout_start")}">')
    assert '<button type="submit" class="button">Checkout</button>' in checkout
    assert "Log in to check out" not in page


def test_anonymous_buyers_are_asked_to_log_in_and_keep_their_cart(client):
    buyer = BuyerFactory()
    board = buyable_product()
    client.post(cart_url("cart_add", board.pk), {"quantity": "2"})

    page = client.get(reverse("shop:cart")).content.decode()
    login_link = f'href="{reverse("accounts:login")}?next=/cart/"'
    assert login_link in page
    assert "Log in to check out</a>" in page
    assert reverse("shop:checkout_start") not in page

    logged_in = client.post(
        reverse("accounts:login") + "?next=/cart/",
        {"username": buyer.email, "password": PASSWORD, "next": "/cart/"},
    )
    assert logged_in.status_code == 302
    assert logged_in.url == "/cart/"
    assert client.session["cart"] == {str(board.pk): 2}
    assert "Checkout</button>" in client.get(reverse("shop:cart")).content.decode()


def test_mixed_currencies_are_shown_with_a_notice(client):
    board = buyable_product(price_amount=1999, currency="usd")
    tea = buyable_product(price_amount=1500, currency="jpy")
    client.post(cart_url("cart_add", board.pk), {"quantity": "2"})
    client.post(cart_url("cart_add", tea.pk), {"quantity": "3"})
    client.force_login(BuyerFactory())

    response = client.get(reverse("shop:cart"))
    page = response.content.decode()

    assert response.context["totals"] == {"jpy": 4500, "usd": 3998}
    assert "Each currency is paid on its own" in page
    assert "¥4,500" in page
    assert "$39.98" in page
    # One Checkout per currency, never one button that would then refuse.
    assert "Pay the USD items</button>" in page
    assert "Pay the JPY items</button>" in page
    assert "Checkout</button>" not in page


def test_cart_page_tells_the_buyer_about_dropped_products(client):
    board = buyable_product(title="Oak board")
    gone = buyable_product(title="Gone")
    client.post(cart_url("cart_add", board.pk))
    client.post(cart_url("cart_add", gone.pk))
    Product.objects.filter(pk=gone.pk).update(active=False)

    response = client.get(reverse("shop:cart"))
    page = response.content.decode()

    assert "“Gone” can no longer be bought and was removed from your cart." in page
    assert client.session["cart"] == {str(board.pk): 1}


def _cart_page_queries(client, count):
    sellers = [payable_contractor() for _ in range(min(count, 4))]
    for n in range(count):
        product = buyable_product(seller=sellers[n % len(sellers)])
        client.post(cart_url("cart_add", product.pk), {"quantity": "2"})
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("shop:cart"))
    assert len(response.context["groups"]) == len(sellers)
    return len(queries)


def test_cart_page_query_count_does_not_grow_with_lines(client):
    small = _cart_page_queries(client, 2)
    large = _cart_page_queries(Client(), 20)

    assert small == large
    # The session, then the one query for the cart's products, sellers and profiles.
    assert large == 2


def test_cart_count_in_every_page_context(client):
    board = buyable_product()
    client.post(cart_url("cart_add", board.pk), {"quantity": "4"})
    client.post(cart_url("cart_add", buyable_product().pk), {"quantity": "1"})

    response = client.get(reverse("shop:product_list"))

    assert response.context["cart_count"] == 5
    # The count comes from the session alone: the product list's queries for its rows
    # and for the currency filter's choices are the only ones that touch products.
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("shop:product_list"))
    assert response.context["cart_count"] == 5
    assert sum("shop_product" in query["sql"] for query in queries) == 2


def test_context_processor_counts_the_cart_without_a_query(rf, django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    from shop.context_processors import shop

    board = buyable_product()
    request = rf.get("/")
    request.user = AnonymousUser()
    request.session = SessionStore()
    Cart(request.session).add(board, 3)
    request.session["cart"]["junk"] = "x"  # a tampered entry is ignored, not a crash

    with django_assert_num_queries(0):
        assert shop(request) == {"nav_role": None, "cart_count": 3}


def test_the_whole_journey_shows_messages_on_the_next_page(client):
    board = buyable_product(title="Oak board", price_amount=1234)

    added = client.post(cart_url("cart_add", board.pk), {"quantity": "2"}, follow=True)
    assert "Added 2 items of “Oak board” to your cart." in added.content.decode()
    assert "You have 2 in your cart." in added.content.decode()

    cart_page = client.get(reverse("shop:cart")).content.decode()
    assert "$24.68" in cart_page

    removed = client.post(cart_url("cart_remove", board.pk), follow=True)
    page = removed.content.decode()
    assert "The item was removed from your cart." in page
    assert "Your cart is empty." in page
