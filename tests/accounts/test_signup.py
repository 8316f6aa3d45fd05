import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User, UserProfile
from notifications.models import Notification
from tests.accounts.conftest import GOOD_PASSWORD, emails_to, link_in, sign_in_link
from tests.factories import PASSWORD, BuyerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["buyer", "contractor"])
def test_signup_creates_the_account_and_the_emailed_link_signs_in(client, role, signup):
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


@pytest.mark.parametrize("role", ["buyer", "contractor"])
def test_the_sign_in_link_is_emailed_and_never_stored(client, role, signup):
    """The link signs its holder in: staff reading notifications in admin, or anyone
    with the database, must not find it."""
    signup(client, role=role)
    user = User.objects.get()
    # Signing up again before using it sends a fresh link the same way.
    signup(
        client, role=role, password1="another-long-passphrase", password2="another-long-passphrase"
    )

    sent = [m for m in mail.outbox if m.subject == "Finish signing up"]
    assert [m.to for m in sent] == [[user.email], [user.email]]
    links = [link_in(m) for m in sent]
    assert all(link.startswith("/accounts/signup/confirm/") for link in links)
    for message, link in zip(sent, links, strict=True):
        (html, _mime) = message.alternatives[0]
        assert link in html
    tokens = [link.rstrip("/").rsplit("/", 1)[1] for link in links]
    for row in Notification.objects.values_list("link", "body_text", "body_html", "subject"):
        assert not any(token in field for token in tokens for field in row)
    assert not Notification.objects.filter(kind="signup_confirm").exists()
    assert client.post(links[-1]).status_code == 302


def test_signing_up_again_resends_the_link_at_most_once_an_hour(client, signup):
    for n in range(4):
        signup(client, password1=f"passphrase-number-{n}", password2=f"passphrase-number-{n}")

    assert [m.subject for m in emails_to("new@example.com")] == ["Finish signing up"] * 2


def test_visitors_find_a_way_to_sign_up_as_a_seller(client, buyer):
    become = f'href="{reverse("accounts:signup")}?role=contractor"'
    login = client.get(reverse("accounts:login")).content.decode()
    shop = client.get(reverse("shop:product_list")).content.decode()

    assert become in login
    assert ">become a seller</a>" in login
    assert f"{become}>Sell here</a>" in shop.split('class="site-footer')[1]
    client.force_login(buyer)  # signed in: no sign-up links
    assert become not in client.get(reverse("shop:product_list")).content.decode()


def test_a_sign_in_link_works_once(client, signup):
    signup(client)
    link = sign_in_link(User.objects.get())
    client.post(link)
    client.post(reverse("accounts:logout"))

    again = client.post(link)

    assert again.status_code == 400
    assert "This link no longer works" in again.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_forged_link_is_refused(client, signup):
    signup(client)
    user = User.objects.get()
    forged = sign_in_link(user).rsplit("/", 2)[0] + "/abc-123/"

    assert client.post(forged).status_code == 400
    assert client.post("/accounts/signup/confirm/bm90LWEtbnVtYmVy/abc/").status_code == 400
    assert not User.objects.get().is_active


def test_before_the_link_the_new_password_does_not_log_in(client, signup):
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
def test_signup_bad_input_shows_field_error_and_creates_nothing(
    client, overrides, field, message, signup
):
    response = signup(client, **overrides)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert any(message in e for e in errors[field])
    assert not User.objects.exists()
    assert not UserProfile.objects.exists()


def test_signing_up_with_a_taken_email_answers_the_same_and_tells_the_owner(client, signup):
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


def test_the_owner_is_told_at_most_once_an_hour(client, signup):
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


def test_the_buyers_stripe_customer_waits_for_the_proven_address(
    client, monkeypatch, celery_eager, django_capture_on_commit_callbacks
):
    """A typo or a stranger's address never becomes a Customer at Stripe (the tasks
    run here, where the `signup` fixture leaves them out)."""
    from payments import gateway

    made = []
    monkeypatch.setattr(
        gateway, "customer_create", lambda **kw: made.append(kw) or {"id": "cus_proven"}
    )
    form = {
        "email": "new@example.com",
        "role": "buyer",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:signup"), form)
    user = User.objects.get()
    assert made == []

    with django_capture_on_commit_callbacks(execute=True):
        client.post(sign_in_link(user))

    assert [call["email"] for call in made] == [user.email]
    assert UserProfile.objects.get(user=user).stripe_id == "cus_proven"
