"""Contractors' onboarding pages and dashboard, with the gateway patched."""

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from payments import gateway
from payments.models import BalanceSnapshot
from tests.accounts.onboarding_data import US_DUE, everything
from tests.factories import ContractorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def gw(monkeypatch):
    fake = mock.MagicMock()
    for name in [
        "account_create",
        "account_retrieve",
        "account_link_create",
        "file_upload",
        "account_update_custom",
        "balance_retrieve",
    ]:
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    fake.account_create.return_value = {"id": "acct_new"}
    fake.account_retrieve.return_value = {
        "id": "acct_new",
        "requirements": {"currently_due": US_DUE},
    }
    return fake


def test_pages_are_for_contractors_only(client, buyer):
    client.force_login(buyer)
    assert client.get(reverse("accounts:dashboard")).status_code == 403
    assert client.get(reverse("accounts:onboarding")).status_code == 403


def test_hosted_onboarding_redirects_to_a_fresh_account_link(client, contractor, gw):
    gw.account_link_create.return_value = {"url": "http://sandbox/connect/onboarding/l1"}
    client.force_login(contractor)

    response = client.post(reverse("accounts:onboarding_start"))

    assert response.status_code == 302
    assert response.url == "http://sandbox/connect/onboarding/l1"
    kwargs = gw.account_link_create.call_args.kwargs
    assert kwargs["account"] == "acct_new"
    assert kwargs["return_url"].endswith(reverse("accounts:onboarding_return"))
    assert kwargs["refresh_url"].endswith(reverse("accounts:onboarding_refresh"))


def test_return_page_trusts_the_account_not_the_redirect(client, gw):
    seller = ContractorFactory(profile__stripe_id="acct_r")
    client.force_login(seller)
    gw.account_retrieve.return_value = {
        "id": "acct_r",
        "charges_enabled": False,
        "details_submitted": True,
        "requirements": {"currently_due": ["external_account"]},
    }

    page = client.get(reverse("accounts:onboarding_return"), follow=True)

    assert "Stripe still needs some details" in page.content.decode()
    assert "Add a bank account for payouts" in page.content.decode()
    seller.profile.refresh_from_db()
    assert not seller.profile.charges_enabled


def test_unreachable_stripe_shows_a_retry_message(client, contractor, gw):
    gw.account_create.side_effect = gateway.GatewayUnavailable("down")
    client.force_login(contractor)
    page = client.post(reverse("accounts:onboarding_start"), follow=True)
    assert "Payment service is unreachable, please retry" in page.content.decode()


def custom_form(**overrides):
    data = everything()
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_custom_onboarding_uploads_documents_and_records_the_terms(
    client, contractor, gw, settings
):
    settings.CONNECT_ONBOARDING = "custom"
    gw.file_upload.side_effect = [{"id": "file_front"}, {"id": "file_extra"}]
    gw.account_update_custom.return_value = {
        "id": "acct_new",
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
    }
    client.force_login(contractor)

    response = client.post(reverse("accounts:onboarding"), custom_form(), REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 302
    kwargs = gw.account_update_custom.call_args.kwargs
    assert kwargs["tos_ip"] == "203.0.113.7"
    assert abs(kwargs["tos_date"] - timezone.now().timestamp()) < 60
    assert kwargs["individual"]["verification"] == {
        "document": {"front": "file_front"},
        "additional_document": {"front": "file_extra"},
    }
    assert kwargs["individual"]["dob"] == {"day": 10, "month": 12, "year": 1990}
    profile = contractor.profile
    profile.refresh_from_db()
    assert profile.tos_ip == "203.0.113.7"
    assert profile.tos_accepted_at is not None
    assert profile.charges_enabled


@pytest.mark.parametrize(
    ("enabled", "said", "not_said"),
    [
        (True, "Stripe has everything it needs: you can now sell.", "Stripe is checking"),
        (
            False,
            "Stripe is checking your details; we&#x27;ll tell you when you can sell.",
            "can now sell",
        ),
    ],
)
def test_after_the_form_you_can_sell_only_once_charges_are_enabled(
    client, contractor, gw, settings, enabled, said, not_said
):
    """Stripe verifies in the background: nothing is due, yet charges wait for it."""
    settings.CONNECT_ONBOARDING = "custom"
    gw.file_upload.side_effect = [{"id": "file_front"}, {"id": "file_extra"}]
    gw.account_update_custom.return_value = {
        "id": "acct_new",
        "charges_enabled": enabled,
        "details_submitted": True,
        "requirements": {
            "currently_due": [],
            "disabled_reason": None if enabled else "requirements.pending_verification",
        },
    }
    client.force_login(contractor)

    response = client.post(reverse("accounts:onboarding"), custom_form(), follow=True)

    assert response.redirect_chain[-1][0] == reverse("accounts:dashboard")
    page = response.content.decode()
    assert said in page
    assert not_said not in page


def test_a_closed_account_is_not_told_to_wait(client, gw):
    seller = ContractorFactory(profile__stripe_id="acct_x")
    client.force_login(seller)
    gw.account_retrieve.return_value = {
        "id": "acct_x",
        "charges_enabled": False,
        "details_submitted": True,
        "requirements": {"currently_due": [], "disabled_reason": "rejected.fraud"},
    }

    page = client.get(reverse("accounts:onboarding_return"), follow=True).content.decode()

    assert '<li class="message error">Stripe has closed your account.</li>' in page
    assert "Stripe is checking your details" not in page


def test_the_return_page_says_stripe_is_checking_when_nothing_is_due(client, gw):
    seller = ContractorFactory(profile__stripe_id="acct_v")
    client.force_login(seller)
    gw.account_retrieve.return_value = {
        "id": "acct_v",
        "charges_enabled": False,
        "details_submitted": True,
        "requirements": {
            "currently_due": [],
            "disabled_reason": "requirements.pending_verification",
        },
    }

    page = client.get(reverse("accounts:onboarding_return"), follow=True).content.decode()

    assert "Stripe is checking your details; we&#x27;ll tell you when you can sell." in page
    assert "you can now sell" not in page
    assert "Stripe is checking the details you sent." in page  # the dashboard's reason


def test_the_contractor_hears_when_stripe_enables_charges_later(
    contractor, celery_eager, django_capture_on_commit_callbacks
):
    from notifications.models import Notification
    from payments.services import connect

    type(contractor.profile).objects.filter(pk=contractor.profile.pk).update(
        stripe_id="acct_later", details_submitted=True
    )
    account = {"id": "acct_later", "details_submitted": True, "requirements": {}}
    with django_capture_on_commit_callbacks(execute=True):
        connect.profile_apply_account({**account, "charges_enabled": False})
    before = Notification.objects.filter(recipient=contractor).count()

    with django_capture_on_commit_callbacks(execute=True):  # account.updated, verified
        connect.profile_apply_account({**account, "charges_enabled": True})

    assert Notification.objects.filter(recipient=contractor).count() == before + 1
    told = Notification.objects.filter(recipient=contractor).latest("pk")
    assert (told.kind, told.subject) == ("charges_enabled", "You can now sell")
    # The same account.updated again is no news.
    with django_capture_on_commit_callbacks(execute=True):
        connect.profile_apply_account({**account, "charges_enabled": True})
    assert Notification.objects.filter(recipient=contractor).count() == before + 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tos": None}, "tos"),
        ({"dob": "2020-01-01"}, "dob"),
        ({"document": SimpleUploadedFile("id.exe", b"MZ", "application/octet-stream")}, "document"),
        ({"additional_document": None}, "additional_document"),
    ],
)
def test_custom_onboarding_bad_input_sends_nothing(
    client, contractor, gw, settings, overrides, field
):
    settings.CONNECT_ONBOARDING = "custom"
    client.force_login(contractor)
    response = client.post(reverse("accounts:onboarding"), custom_form(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    gw.file_upload.assert_not_called()
    gw.account_update_custom.assert_not_called()


def test_dashboard_shows_balance_checklist_and_refreshes(client, gw):
    seller = ContractorFactory(
        profile__stripe_id="acct_d",
        profile__charges_enabled=False,
        profile__details_submitted=True,  # started onboarding: restricted is news now
        profile__requirements={
            "currently_due": ["tos_acceptance.date"],
            "disabled_reason": "requirements.past_due",
        },
    )
    BalanceSnapshot.objects.create(
        contractor=seller,
        account="acct_d",
        currency="usd",
        available_amount=1000,
        pending_amount=2220,
        fetched_at=timezone.now(),
    )
    client.force_login(seller)

    page = client.get(reverse("accounts:dashboard")).content.decode()

    assert "Restricted" in page
    assert "Stripe is waiting for details that are now overdue" in page
    assert "Accept Stripe&#x27;s terms of service" in page
    assert "Finish onboarding" in page
    assert "Not started" not in page
    assert "$10.00" in page
    assert "$22.20" in page

    gw.balance_retrieve.return_value = {
        "available": [{"amount": 0, "currency": "usd"}],
        "pending": [{"amount": 5000, "currency": "usd"}],
    }
    BalanceSnapshot.objects.update(fetched_at=timezone.now() - timezone.timedelta(minutes=5))
    client.post(reverse("accounts:balance_refresh"))
    assert BalanceSnapshot.objects.get().pending_amount == 5000


NEW_ACCOUNT = {
    "currently_due": ["external_account", "tos_acceptance.date"],
    "past_due": ["external_account", "tos_acceptance.date"],
    "disabled_reason": "requirements.past_due",
}


@pytest.mark.parametrize("with_account", [True, False])
def test_a_contractor_who_has_not_started_is_asked_to_set_up_payouts(client, with_account):
    """Sign-up makes the connected account at once, and Stripe calls a new account past
    due: until the contractor starts, that is no restriction to warn about."""
    seller = ContractorFactory(
        profile__stripe_id="acct_new1" if with_account else "",
        profile__requirements=NEW_ACCOUNT if with_account else {},
    )
    client.force_login(seller)

    page = client.get(reverse("accounts:dashboard")).content.decode()

    assert "Not started" in page
    assert "Set up payouts to start selling." in page
    assert f'href="{reverse("accounts:onboarding")}">Set up payouts</a>' in page
    assert "Restricted" not in page
    assert "overdue" not in page
    assert 'class="checklist"' not in page
    assert "Finish onboarding" not in page


@pytest.mark.parametrize(
    "started", [{"details_submitted": True}, {"tos_accepted_at": timezone.now()}]
)
def test_once_started_a_restricted_account_is_called_so(client, started):
    seller = ContractorFactory(
        profile__stripe_id="acct_new2",
        profile__requirements=NEW_ACCOUNT,
        **{f"profile__{name}": value for name, value in started.items()},
    )
    client.force_login(seller)

    page = client.get(reverse("accounts:dashboard")).content.decode()

    assert "Restricted" in page
    assert "Stripe is waiting for details that are now overdue." in page
    assert "Add a bank account for payouts" in page
    assert "Not started" not in page


def test_document_over_10_mb_is_refused_and_nothing_is_sent(client, contractor, gw, settings):
    settings.CONNECT_ONBOARDING = "custom"
    client.force_login(contractor)
    too_big = SimpleUploadedFile("id.png", b"0" * (10 * 1024 * 1024 + 1), "image/png")
    response = client.post(reverse("accounts:onboarding"), custom_form(document=too_big))
    assert response.context["form"].errors["document"] == ["Documents must be 10 MB or smaller."]
    gw.file_upload.assert_not_called()


@pytest.mark.parametrize(
    "name", ["onboarding_start", "onboarding_refresh", "onboarding_return", "balance_refresh"]
)
def test_buyers_cannot_reach_anyones_onboarding(client, buyer, gw, name):
    client.force_login(buyer)
    response = client.post(reverse(f"accounts:{name}"))
    assert response.status_code == 403
    gw.account_link_create.assert_not_called()
    gw.account_retrieve.assert_not_called()
