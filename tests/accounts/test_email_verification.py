"""A proven email address before a buyer's first checkout or a contractor's onboarding."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from accounts.decorators import CHECKOUT_WHY, verified_email_required
from accounts.models import User
from accounts.selectors import email_verified
from accounts.services import user_signup
from tests.accounts.conftest import emails_to, link_in, sign_in_link
from tests.factories import PASSWORD, BuyerFactory, ContractorFactory

pytestmark = pytest.mark.django_db

VERIFY = "/accounts/email/verify/"
ONBOARDING = "/accounts/onboarding/"


def test_the_selector(buyer):
    assert email_verified(buyer)
    assert not email_verified(BuyerFactory(email_verified_at=None))
    assert not email_verified(AnonymousUser())


def test_accounts_made_without_the_emailed_link_are_unproven():
    seeded = user_signup(email="seeded@example.com", password=PASSWORD, role="buyer")
    scripted = User.objects.create_user(email="script@example.com", password=PASSWORD)
    admin_made = User.objects.create_superuser(email="root@example.com", password=PASSWORD)

    assert [email_verified(u) for u in (seeded, scripted, admin_made)] == [False, False, False]


def test_signing_up_through_the_link_proves_the_address(client, signup):
    signup(client, email="new@example.com")
    assert not email_verified(User.objects.get())
    client.post(sign_in_link(User.objects.get()))
    assert email_verified(User.objects.get())


def test_an_unproven_contractor_is_sent_to_confirm_before_onboarding(client, monkeypatch):
    from payments import gateway

    def no_stripe(**kwargs):
        raise AssertionError("Stripe must not be called before the address is proven")

    monkeypatch.setattr(gateway, "account_link_create", no_stripe)
    monkeypatch.setattr(gateway, "account_create", no_stripe)
    contractor = ContractorFactory(email_verified_at=None)
    client.force_login(contractor)

    page = client.get(ONBOARDING)
    started = client.post(reverse("accounts:onboarding_start"))

    assert page.status_code == 302
    assert page.url == f"{VERIFY}?next=%2Faccounts%2Fonboarding%2F"
    assert started.url == page.url  # a POST-only view sends them back to the page
    shown = client.get(page.url).content.decode()
    assert "before you set up payouts" in shown
    assert "Email me the link" in shown
    dashboard = client.get(reverse("accounts:dashboard")).content.decode()
    assert "Please confirm your email address" in dashboard


def test_the_link_proves_the_address_once_and_leads_on(client, committed):
    contractor = ContractorFactory(email="carol@example.com", email_verified_at=None)
    client.force_login(contractor)

    sent = committed(client.post, VERIFY, {"next": ONBOARDING})

    assert sent.status_code == 302
    (message,) = emails_to("carol@example.com")
    assert message.subject == "Confirm your email address"
    link = link_in(message)
    assert "Confirm" in client.get(link).content.decode()
    contractor.refresh_from_db()
    assert contractor.email_verified_at is None  # a GET changes nothing

    confirmed = client.post(link)

    assert confirmed.url == ONBOARDING
    contractor.refresh_from_db()
    assert contractor.email_verified_at is not None
    assert client.post(link).status_code == 400  # void once used
    assert client.get(VERIFY + "?next=/accounts/onboarding/").url == ONBOARDING


def test_the_link_works_without_being_logged_in(client, committed):
    user = BuyerFactory(email="ann@example.com", email_verified_at=None)
    other = type(client)()
    other.force_login(user)
    committed(other.post, VERIFY)

    confirmed = client.post(link_in(emails_to("ann@example.com")[0]))

    assert confirmed.url == reverse("accounts:login")
    user.refresh_from_db()
    assert user.email_verified_at is not None


def test_a_link_for_another_address_is_void(client, committed):
    user = BuyerFactory(email="ann@example.com", email_verified_at=None)
    client.force_login(user)
    committed(client.post, VERIFY)
    link = link_in(emails_to("ann@example.com")[0])
    User.objects.filter(pk=user.pk).update(email="ann2@example.com")

    assert client.post(link).status_code == 400


def test_resending_is_limited_and_says_so(client, committed):
    client.force_login(BuyerFactory(email="ann@example.com", email_verified_at=None))

    for _ in range(5):
        response = committed(client.post, VERIFY, follow=True)

    assert len(emails_to("ann@example.com")) == 3
    assert "several times in the last hour" in response.content.decode()


def test_next_must_be_on_this_site(client, committed):
    user = BuyerFactory(email="ann@example.com", email_verified_at=None)
    client.force_login(user)
    committed(client.post, VERIFY, {"next": "https://evil.example/"})
    link = link_in(emails_to("ann@example.com")[0])

    assert "evil" not in link
    assert client.post(link).url == reverse("shop:product_list")


def test_the_checkout_decorator_sends_unproven_buyers_to_confirm(rf):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.http import HttpResponse

    @verified_email_required(CHECKOUT_WHY, back="shop:cart")
    def checkout(request):
        return HttpResponse("checked out")

    def call(user):
        request = rf.post("/checkout/")
        request.user = user
        request.session = {}
        request._messages = FallbackStorage(request)
        return checkout(request)

    refused = call(BuyerFactory(email_verified_at=None))
    assert refused.status_code == 302
    assert refused.url == f"{VERIFY}?next=%2Fcart%2F"
    assert call(BuyerFactory()).content == b"checked out"
    assert call(AnonymousUser()).status_code == 302


def test_the_cart_tells_an_unproven_buyer_before_checkout(client):
    client.force_login(BuyerFactory(email_verified_at=None))
    page = client.get(reverse("shop:cart")).content.decode()
    assert "Before your first checkout, please confirm your email address" in page
    assert f"{VERIFY}?next=/cart/" in page

    client.force_login(BuyerFactory())
    assert "please confirm your email" not in client.get(reverse("shop:cart")).content.decode()


def test_signing_up_again_before_the_first_link_sends_a_new_one(client, signup):
    signup(client, password1="first-long-passphrase", password2="first-long-passphrase")
    second_password = "second-long-passphrase"
    signup(client, password1=second_password, password2=second_password)

    links = [link_in(m) for m in emails_to("new@example.com")]
    assert len(links) == 2
    assert client.post(links[0]).status_code == 400  # the newest sign-up voids older links
    assert client.post(links[1]).status_code == 302
    user = User.objects.get()
    assert user.is_active
    assert user.check_password(second_password)
    assert not user.notifications.filter(kind="signup_existing").exists()


def test_the_link_expires_after_password_reset_timeout(client, committed, settings):
    from datetime import timedelta
    from unittest import mock

    from django.contrib.auth.tokens import PasswordResetTokenGenerator

    user = BuyerFactory(email="ann@example.com", email_verified_at=None)
    client.force_login(user)
    committed(client.post, VERIFY)
    link = link_in(emails_to("ann@example.com")[0])
    made_at = PasswordResetTokenGenerator()._now()

    def later(seconds):
        moment = made_at + timedelta(seconds=seconds)
        return mock.patch.object(PasswordResetTokenGenerator, "_now", return_value=moment)

    with later(settings.PASSWORD_RESET_TIMEOUT + 1):
        expired = client.post(link)
    assert expired.status_code == 400
    assert "This link no longer works" in expired.content.decode()
    user.refresh_from_db()
    assert user.email_verified_at is None
    with later(settings.PASSWORD_RESET_TIMEOUT - 60):  # just in time, it still works
        assert client.post(link).status_code == 302
    user.refresh_from_db()
    assert user.email_verified_at is not None


def test_the_migration_keeps_existing_active_accounts_able_to_buy():
    migration = importlib.import_module("accounts.migrations.0002_user_email_verified_at")
    active = BuyerFactory(email_verified_at=None)
    pending = BuyerFactory(email_verified_at=None, is_active=False)

    migration.existing_active_users_are_verified(apps, None)

    active.refresh_from_db()
    pending.refresh_from_db()
    assert active.email_verified_at == active.date_joined
    assert pending.email_verified_at is None
