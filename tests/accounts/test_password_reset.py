"""Forgotten passwords: Django's reset views, our templates, a link that works once and
expires, and an email that tells the owner their password changed."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.accounts.conftest import can_log_in, emails_to, link_in
from tests.factories import PASSWORD, BuyerFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-long-passphrase"


def request_reset(client, committed, email):
    return committed(client.post, reverse("accounts:password_reset"), {"email": email})


def set_password(client, link, password=NEW_PASSWORD):
    """Open the emailed link (Django swaps the token for a session-held one) and choose
    a new password; returns the last response."""
    page = client.get(link, follow=True)
    if not page.context.get("validlink"):
        return page
    form_url = page.redirect_chain[-1][0]
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def test_the_emailed_link_sets_a_new_password_once(client, committed):
    user = BuyerFactory(email="ann@example.com")

    sent = request_reset(client, committed, "ANN@example.com")
    assert sent.status_code == 302
    assert sent.url == reverse("accounts:password_reset_done")
    assert "ann@example.com" in client.get(sent.url).content.decode()
    (message,) = emails_to("ann@example.com")
    assert message.subject == "Reset your password"
    link = link_in(message)
    assert link.startswith("/accounts/password/reset/")

    done = committed(set_password, client, link)

    assert done.status_code == 302
    assert done.url == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert [m.subject for m in emails_to("ann@example.com")][-1] == "Your password was changed"
    # The same link again: void, since the password it hashed has changed.
    again = client.get(link, follow=True)
    assert again.context["validlink"] is False
    assert "This link no longer works" in again.content.decode()
    assert can_log_in("ann@example.com", NEW_PASSWORD)
    assert not can_log_in("ann@example.com", PASSWORD)


def test_the_link_expires_after_password_reset_timeout(client, committed, settings):
    BuyerFactory(email="ann@example.com")
    request_reset(client, committed, "ann@example.com")
    link = link_in(emails_to("ann@example.com")[0])
    real_now = PasswordResetTokenGenerator()._now()

    def later(seconds):
        moment = real_now + timedelta(seconds=seconds)
        return mock.patch.object(PasswordResetTokenGenerator, "_now", return_value=moment)

    with later(settings.PASSWORD_RESET_TIMEOUT + 1):
        expired = client.get(link, follow=True)
    assert expired.context["validlink"] is False
    with later(settings.PASSWORD_RESET_TIMEOUT - 60):
        assert client.get(link, follow=True).context["validlink"] is True


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, committed):
    BuyerFactory(email="ann@example.com")
    known = request_reset(client, committed, "ann@example.com")
    unknown = request_reset(type(client)(), committed, "nobody@example.com")

    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert len(mail.outbox) == 1
    assert not emails_to("nobody@example.com")


def test_an_address_gets_at_most_three_reset_emails_an_hour(client, committed):
    BuyerFactory(email="ann@example.com")

    for _ in range(6):
        assert request_reset(client, committed, "ann@example.com").status_code == 302

    assert len(emails_to("ann@example.com")) == 3


def test_a_sign_up_never_confirmed_gets_no_reset_link(client, committed):
    User.objects.create_user(email="pending@example.com", password=PASSWORD, is_active=False)

    request_reset(client, committed, "pending@example.com")

    assert not mail.outbox


def test_a_reset_proves_the_address_and_logs_out_other_sessions(client, committed):
    user = BuyerFactory(email="ann@example.com", email_verified_at=None)
    elsewhere = type(client)()
    elsewhere.force_login(user)
    request_reset(client, committed, "ann@example.com")

    committed(set_password, client, link_in(emails_to("ann@example.com")[0]))

    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert elsewhere.get(reverse("accounts:profile")).status_code == 302  # to the login page


def test_a_weak_new_password_is_refused(client, committed):
    BuyerFactory(email="ann@example.com")
    request_reset(client, committed, "ann@example.com")

    page = set_password(client, link_in(emails_to("ann@example.com")[0]), password="12345678")

    assert page.status_code == 200
    assert "too common" in page.content.decode()


def test_the_login_page_offers_the_reset(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert reverse("accounts:password_reset") in page


def test_change_password_needs_the_old_one_and_keeps_this_session(client, committed):
    user = BuyerFactory(email="ann@example.com")
    client.force_login(user)
    url = reverse("accounts:password_change")

    wrong = client.post(
        url,
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200
    assert "old_password" in wrong.context["form"].errors

    changed = committed(
        client.post,
        url,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert changed.url == reverse("accounts:profile")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get(reverse("accounts:profile")).status_code == 200  # still logged in
    assert [m.subject for m in emails_to("ann@example.com")] == ["Your password was changed"]


def test_change_password_requires_login(client):
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response.url
