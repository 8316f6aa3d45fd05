"""After logging in, each role lands where it has work; sign-up's role comes from links."""

import re

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, BuyerFactory, ContractorFactory, StaffFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def log_in(client, user, next_url=None):
    data = {"username": user.email, "password": PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    return client.post(LOGIN, data)


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [
        (None, "/"),
        ("/cart/", "/cart/"),
        ("/products/oak-board/", "/products/oak-board/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
    ],
)
def test_a_buyer_goes_back_where_they_came_from_or_to_the_shop(client, next_url, landing):
    response = log_in(client, BuyerFactory(), next_url)
    assert response.status_code == 302
    assert response.url == landing


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [
        (None, "/accounts/dashboard/"),
        ("/products/oak-board/", "/accounts/dashboard/"),  # they cannot buy
        ("/cart/", "/accounts/dashboard/"),
        ("/sales/?status=authorized", "/sales/?status=authorized"),  # e.g. from an email
        ("/accounts/onboarding/", "/accounts/onboarding/"),
    ],
)
def test_a_contractor_lands_on_the_dashboard_unless_sent_to_their_own_page(
    client, next_url, landing
):
    assert log_in(client, ContractorFactory(), next_url).url == landing


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [(None, "/admin/"), ("/", "/admin/"), ("/admin/shop/order/", "/admin/shop/order/")],
)
def test_staff_land_in_admin(client, next_url, landing):
    assert log_in(client, StaffFactory(), next_url).url == landing


def test_opening_the_login_page_when_logged_in_lands_the_same_way(client):
    client.force_login(ContractorFactory())
    assert client.get(LOGIN).url == reverse("accounts:dashboard")
    client.force_login(BuyerFactory())
    assert client.get(LOGIN + "?next=/accounts/login/").url == "/"  # not a loop


def test_the_header_login_link_brings_a_visitor_back(client, buyable_product):
    page = client.get(buyable_product.get_absolute_url()).content.decode()
    assert f'href="{LOGIN}?next=%2Fproducts%2F{buyable_product.slug}%2F"' in page
    # Not from the account pages: there is nothing to come back to there.
    assert f'href="{LOGIN}"' in client.get(reverse("accounts:signup")).content.decode()


@pytest.mark.parametrize("role", ["buyer", "contractor"])
def test_sign_up_preselects_the_role_a_link_names(client, role):
    page = client.get(reverse("accounts:signup") + f"?role={role}")
    assert page.context["form"]["role"].value() == role
    (checked,) = re.findall(r'<input type="radio"[^>]* checked>', page.content.decode())
    assert f'value="{role}"' in checked


@pytest.mark.parametrize("query", ["", "?role=admin", "?role="])
def test_sign_up_without_a_role_starts_as_a_buyer(client, query):
    """The header's "Sign up" names no role: most people come to shop ("Sell here"
    and the login page's "become a seller" name the contractor role)."""
    page = client.get(reverse("accounts:signup") + query)
    assert page.context["form"]["role"].value() == "buyer"
    (checked,) = re.findall(r'<input type="radio"[^>]* checked>', page.content.decode())
    assert 'value="buyer"' in checked


def test_a_logged_in_person_opening_sign_up_lands_by_role(client):
    client.force_login(BuyerFactory())
    assert client.get(reverse("accounts:signup")).url == reverse("shop:product_list")
