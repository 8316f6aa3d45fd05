import pytest
from django.urls import reverse

from accounts.models import User, UserProfile
from notifications.models import Notification
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


def sign_in_link(user):
    return Notification.objects.get(recipient=user, kind="signup_confirm").link


@pytest.mark.parametrize("role", ["buyer", "contractor"])
def test_signup_creates_the_account_and_the_emailed_link_signs_in(client, role):
    response = signup(client, role=role, email="Mixed.Case@Example.com")

    assert response.status_code == 302
    assert response.url == reverse("accounts:signup_sent")
    user = User.objects.get()
    assert user.email == "mixed.case@example.com"
    assert not user.is_active  # until the address is proven
    assert user.profile.role == role
    assert user.profile.display_name == "New Person"
    assert user.profile.stripe_id == ""
    sent = client.get(response.url).content.decode()
    assert "We sent a message to <strong>mixed.case@example.com</strong>" in sent

    link = sign_in_link(user)
    assert "Confirm and sign in" in client.get(link).content.decode()  # a GET changes nothing
    assert "_auth_user_id" not in client.session
    confirmed = client.post(link)

    landing = "accounts:onboarding" if role == "contractor" else "shop:product_list"
    assert confirmed.url == reverse(landing)
    page = client.get(reverse("accounts:profile"))
    assert page.status_code == 200
    assert "mixed.case@example.com" in page.content.decode()
    assert UserProfile.Role(role).label in page.content.decode()
    assert User.objects.get().is_active


def test_a_sign_in_link_works_once(client):
    signup(client)
    link = sign_in_link(User.objects.get())
    client.post(link)
    client.post(reverse("accounts:logout"))

    again = client.post(link)

    assert again.status_code == 400
    assert "This link no longer works" in again.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_forged_link_is_refused(client):
    signup(client)
    user = User.objects.get()
    forged = sign_in_link(user).rsplit("/", 2)[0] + "/abc-123/"

    assert client.post(forged).status_code == 400
    assert client.post("/accounts/signup/confirm/bm90LWEtbnVtYmVy/abc/").status_code == 400
    assert not User.objects.get().is_active


def test_before_the_link_the_new_password_does_not_log_in(client):
    """Else logging in with the password just chosen would tell a new address from a
    taken one."""
    signup(client, email="new@example.com")

    response = client.post(
        reverse("accounts:login"), {"username": "new@example.com", "password": GOOD_PASSWORD}
    )

    assert response.status_code == 200
    assert "correct email address and password" in response.content.decode()


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


def test_signing_up_with_a_taken_email_answers_the_same_and_tells_the_owner(client):
    owner = BuyerFactory(email="taken@example.com")
    other = type(client)()

    taken = signup(client, email="TAKEN@example.com")
    fresh = signup(other, email="fresh@example.com")

    assert (taken.status_code, taken.url) == (fresh.status_code, fresh.url)
    taken_page = client.get(taken.url).content.decode().replace("taken@example.com", "X")
    fresh_page = other.get(fresh.url).content.decode().replace("fresh@example.com", "X")
    assert taken_page.split("<main")[1] == fresh_page.split("<main")[1]
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    note = Notification.objects.get(recipient=owner)
    assert note.kind == "signup_existing"
    assert "already has one" in note.body_text
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)  # nothing about the account changed


def test_the_owner_is_told_at_most_once_an_hour(client):
    owner = BuyerFactory(email="taken@example.com")

    for _ in range(5):
        signup(client, email="taken@example.com")

    assert Notification.objects.filter(recipient=owner).count() == 1


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
