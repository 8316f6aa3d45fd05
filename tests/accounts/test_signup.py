import pytest
from django.urls import reverse

from accounts.models import User, UserProfile
from tests.factories import PASSWORD, BuyerFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a-long-and-unusual-passphrase"


def signup(client, **overrides):
    data = {
        "email": "new@example.com",
        "display_name": "New Person",
        "role": "buyer",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    }
    data.update(overrides)
    return client.post(reverse("accounts:signup"), data)


@pytest.mark.parametrize("role", ["buyer", "contractor"])
def test_signup_creates_user_and_profile_and_logs_in(client, role):
    response = signup(client, role=role, email="Mixed.Case@Example.com")

    assert response.status_code == 302
    landing = "accounts:onboarding" if role == "contractor" else "shop:product_list"
    assert response.url == reverse(landing)
    user = User.objects.get()
    assert user.email == "mixed.case@example.com"
    assert user.profile.role == role
    assert user.profile.display_name == "New Person"
    assert user.profile.stripe_id == ""
    page = client.get(reverse("accounts:profile"))
    assert page.status_code == 200
    assert "mixed.case@example.com" in page.content.decode()
    assert UserProfile.Role(role).label in page.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"role": "admin"}, "role", "Select a valid choice"),
        ({"role": ""}, "role", "This field is required"),
        ({"password1": "12345678", "password2": "12345678"}, "password2", "too common"),
        ({"password1": "short", "password2": "short"}, "password2", "too short"),
        ({"password2": "something-else-entirely"}, "password2", "didn’t match"),
        ({"email": "not-an-email"}, "email", "valid email"),
    ],
)
def test_signup_bad_input_shows_field_error_and_creates_nothing(client, overrides, field, message):
    response = signup(client, **overrides)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert any(message in e for e in errors[field])
    assert not User.objects.exists()
    assert not UserProfile.objects.exists()


def test_signup_duplicate_email_case_insensitive(client):
    BuyerFactory(email="taken@example.com")

    response = signup(client, email="TAKEN@example.com")

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "An account with this email already exists."
    ]
    assert User.objects.count() == 1
    assert UserProfile.objects.count() == 1


def test_login_with_email_and_logout(client):
    user = BuyerFactory(email="ann@example.com")

    response = client.post(
        reverse("accounts:login"), {"username": "ann@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)

    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_login_wrong_password_shows_error(client):
    BuyerFactory(email="ann@example.com")

    response = client.post(
        reverse("accounts:login"), {"username": "ann@example.com", "password": "wrong"}
    )

    assert response.status_code == 200
    assert "correct email address and password" in response.content.decode()


def test_profile_requires_login(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response.url


def test_staff_without_profile_sees_profile_page(client, staff_user):
    client.force_login(staff_user)
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 200
    assert "Staff" in response.content.decode()
