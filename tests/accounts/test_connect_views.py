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
        profile__requirements={"currently_due": ["tos_acceptance.date"]},
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
    assert "Accept Stripe&#x27;s terms of service" in page
    assert "$10.00" in page
    assert "$22.20" in page

    gw.balance_retrieve.return_value = {
        "available": [{"amount": 0, "currency": "usd"}],
        "pending": [{"amount": 5000, "currency": "usd"}],
    }
    BalanceSnapshot.objects.update(fetched_at=timezone.now() - timezone.timedelta(minutes=5))
    client.post(reverse("accounts:balance_refresh"))
    assert BalanceSnapshot.objects.get().pending_amount == 5000


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
