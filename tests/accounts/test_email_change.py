"""Changing the email address: the new address is proven by a link before it counts."""

from unittest import mock

import pytest
from django.core import mail, signing
from django.urls import reverse

from accounts.models import User
from tests.accounts.conftest import can_log_in, emails_to, link_in
from tests.factories import PASSWORD, BuyerFactory, StaffFactory

pytestmark = pytest.mark.django_db

URL = "/accounts/email/change/"


@pytest.fixture
def ann(client):
    user = BuyerFactory(email="ann@example.com")
    client.force_login(user)
    return user


def ask(client, committed, new_email, password=PASSWORD):
    return committed(client.post, URL, {"new_email": new_email, "password": password})


def test_the_new_address_counts_only_once_its_link_is_used(client, committed, ann):
    page = ask(client, committed, "Ann.New@Example.com")

    assert page.status_code == 200
    assert "ann.new@example.com" in page.content.decode()
    assert not emails_to("ann@example.com")  # the link goes to the new address only
    (message,) = emails_to("ann.new@example.com")
    assert message.subject == "Confirm your new email address"
    link = link_in(message)
    ann.refresh_from_db()
    assert ann.email == "ann@example.com"  # nothing changed yet

    opened = client.get(link)
    assert "Use this address" in opened.content.decode()
    ann.refresh_from_db()
    assert ann.email == "ann@example.com"  # a GET (a mail scanner) changes nothing

    used = committed(client.post, link)

    assert used.url == reverse("accounts:profile")
    ann.refresh_from_db()
    assert ann.email == "ann.new@example.com"
    assert ann.email_verified_at is not None
    (notice,) = emails_to("ann@example.com")  # the old address hears of it
    assert notice.subject == "Your email address was changed"
    assert "ann.new@example.com" in notice.body
    assert client.post(link).status_code == 400  # once
    assert can_log_in("ann.new@example.com", PASSWORD)
    assert not can_log_in("ann@example.com", PASSWORD)


def test_the_current_password_is_required(client, committed, ann):
    page = ask(client, committed, "new@example.com", password="wrong")

    assert page.status_code == 200
    assert "password" in page.context["form"].errors
    assert not mail.outbox


def test_the_same_address_is_refused(client, committed, ann):
    page = ask(client, committed, "ANN@example.com")

    assert "That is already your email address." in page.content.decode()
    assert not mail.outbox


def test_a_taken_address_answers_the_same_and_links_nothing(client, committed, ann):
    BuyerFactory(email="bob@example.com")

    taken = ask(client, committed, "bob@example.com")

    assert taken.status_code == 200
    assert "Check your new address" in taken.content.decode()
    (message,) = emails_to("bob@example.com")
    assert message.subject == "Someone tried to use your email address"
    assert "/accounts/email/change/" not in message.body
    ann.refresh_from_db()
    assert ann.email == "ann@example.com"


def test_a_link_is_void_after_a_password_change_or_its_timeout(client, committed, ann, settings):
    ask(client, committed, "new@example.com")
    link = link_in(emails_to("new@example.com")[0])
    ann.set_password("another-long-passphrase")
    ann.save()
    assert client.post(link).status_code == 400
    client.force_login(ann)  # the password change logged this session out

    ask(client, committed, "newer@example.com", password="another-long-passphrase")
    link = link_in(emails_to("newer@example.com")[0])
    real_loads = signing.loads
    later = settings.PASSWORD_RESET_TIMEOUT + 1

    def loads_later(*args, **kwargs):
        with mock.patch("time.time", return_value=__import__("time").time() + later):
            return real_loads(*args, **kwargs)

    assert client.get(link).status_code == 200  # good now…
    with mock.patch("accounts.tokens.signing.loads", loads_later):
        assert client.post(link).status_code == 400  # …and void after the timeout
    ann.refresh_from_db()
    assert ann.email == "ann@example.com"


def test_an_address_taken_before_the_link_is_used_is_refused(client, committed, ann):
    ask(client, committed, "new@example.com")
    link = link_in(emails_to("new@example.com")[0])
    BuyerFactory(email="new@example.com")

    page = client.post(link)

    assert page.status_code == 400
    assert "belongs to another account" in page.content.decode()


def test_a_forged_link_is_refused(client, ann):
    assert client.get(URL + "not-a-token/").status_code == 400
    assert client.post(URL + "not-a-token/").status_code == 400


def test_staff_changing_an_address_in_admin_unproves_it(client):
    staff = StaffFactory()
    user = BuyerFactory(email="ann@example.com")
    client.force_login(staff)
    change = reverse("admin:accounts_user_change", args=[user.pk])
    data = {
        "email": "ann2@example.com",
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "last_login_0": "",
        "last_login_1": "",
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": str(user.profile.pk),
        "profile-0-user": str(user.pk),
        "profile-0-role": "buyer",
        "profile-0-display_name": "",
        "_save": "Save",
    }
    response = client.post(change, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(pk=user.pk)
    assert user.email == "ann2@example.com"
    assert user.email_verified_at is None


def test_change_email_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("accounts:login") in response.url
