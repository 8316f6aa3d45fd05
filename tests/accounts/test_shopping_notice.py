"""Contractors cannot buy: the product page and the cart say so before any cart is
filled, and offer the way out (a buyer account)."""

import pytest
from django.urls import reverse

from tests.factories import BuyerFactory, ContractorFactory, StaffFactory

pytestmark = pytest.mark.django_db

CONTRACTOR_NOTICE = "contractor accounts sell, they can"
STAFF_NOTICE = "only buyer accounts can check out"


def page(client, url):
    return client.get(url).content.decode()


def test_a_contractor_is_told_on_the_product_page_and_offered_no_cart(client, buyable_product):
    client.force_login(ContractorFactory())

    html = page(client, buyable_product.get_absolute_url())

    assert CONTRACTOR_NOTICE in html
    assert '<body class="cannot-shop">' in html  # the stylesheet hides the add-to-cart form
    assert 'name="next" value="/accounts/signup/?role=buyer"' in html
    assert f'action="{reverse("accounts:logout")}"' in html


def test_a_contractor_is_told_on_the_cart(client):
    client.force_login(ContractorFactory())
    assert CONTRACTOR_NOTICE in page(client, reverse("shop:cart"))


def test_not_on_pages_where_nothing_is_bought(client):
    client.force_login(ContractorFactory())
    for url in (reverse("accounts:dashboard"), reverse("shop:sales_list")):
        assert CONTRACTOR_NOTICE not in page(client, url)


def test_buyers_and_visitors_see_no_notice(client, buyable_product):
    url = buyable_product.get_absolute_url()
    html = page(client, url)
    assert CONTRACTOR_NOTICE not in html
    assert "cannot-shop" not in html
    assert "Add to cart" in html

    client.force_login(BuyerFactory())
    html = page(client, url)
    assert CONTRACTOR_NOTICE not in html
    assert "cannot-shop" not in html
    assert "please confirm your email" not in html


def test_staff_are_told_too(client, buyable_product):
    client.force_login(StaffFactory())
    html = page(client, buyable_product.get_absolute_url())
    assert STAFF_NOTICE in html
    assert '<body class="cannot-shop">' in html


def test_logging_out_from_the_notice_leads_to_a_buyer_sign_up(client):
    client.force_login(ContractorFactory())

    response = client.post(
        reverse("accounts:logout"), {"next": "/accounts/signup/?role=buyer"}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/accounts/signup/?role=buyer"
    assert response.context["form"]["role"].value() == "buyer"


def test_the_selector_the_cart_can_use():
    from django.contrib.auth.models import AnonymousUser

    from accounts.selectors import can_shop

    assert can_shop(AnonymousUser())
    assert can_shop(BuyerFactory())
    assert not can_shop(ContractorFactory())
    assert not can_shop(StaffFactory())
