"""Our own onboarding form, built from the account's `requirements.currently_due`
(issue #18, item 3).

Before: a fixed form (name, date of birth, address, documents, terms) that never
asked for the SSN, email, phone, business details or a bank account, so on Stripe a
US individual's account was never enabled, and the sandbox enabled it anyway. Now
the fields are the ones Stripe asks for, only those are sent, anything the form
does not know leads to Stripe's hosted onboarding, and the page shows what is still
missing after each submission.
"""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from django.urls import reverse

from payments import gateway
from stripe_sandbox.testing import SandboxHandle, run_sandbox
from tests.accounts.onboarding_data import BANK, PERSON, US_DUE, documents, everything
from tests.factories import ContractorFactory

pytestmark = pytest.mark.django_db

# --- the form, with the gateway patched --------------------------------------------


@pytest.fixture
def gw(monkeypatch, settings):
    settings.CONNECT_ONBOARDING = "custom"
    fake = mock.MagicMock()
    for name in ["account_create", "account_retrieve", "file_upload", "account_update_custom"]:
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    fake.account_create.return_value = {"id": "acct_new"}
    fake.file_upload.side_effect = [{"id": "file_front"}, {"id": "file_extra"}]

    def due(codes):
        fake.account_retrieve.return_value = {
            "id": "acct_new",
            "requirements": {"currently_due": codes},
        }

    fake.due = due
    due(US_DUE)
    return fake


@pytest.fixture
def seller(client):
    user = ContractorFactory()
    client.force_login(user)
    return user


def page_fields(response) -> set[str]:
    return set(response.context["form"].fields)


def test_the_form_asks_exactly_what_stripe_asks(client, seller, gw):
    page = client.get(reverse("accounts:onboarding"))
    assert page_fields(page) == {
        *PERSON,
        "mcc",
        "url",
        "product_description",
        *BANK,
        "document",
        "additional_document",
        "tos",
    }
    assert page.context["form"].unknown == []
    gw.account_retrieve.assert_called_once_with(account="acct_new")


def test_a_requirement_the_form_does_not_know_leads_to_stripes_page(client, seller, gw):
    gw.due(["individual.phone", "relationship.representative", "company.owners_provided"])
    page = client.get(reverse("accounts:onboarding"))
    assert page_fields(page) == {"phone"}
    html = page.content.decode()
    assert "Stripe also asks for details this form cannot collect" in html
    assert "Your company&#x27;s representative" in html
    assert "Your company&#x27;s list of owners" in html
    assert reverse("accounts:onboarding_start") in html
    assert "relationship.representative" not in html  # a label, never a raw code


def test_everything_due_is_sent_once_and_the_account_is_enabled(client, seller, gw):
    gw.account_update_custom.return_value = {
        "id": "acct_new",
        "charges_enabled": True,
        "payouts_enabled": True,
        "requirements": {"currently_due": []},
    }
    response = client.post(reverse("accounts:onboarding"), everything(), REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 302
    assert response.url == reverse("accounts:dashboard")
    sent = gw.account_update_custom.call_args.kwargs
    assert sent["business_type"] == "individual"
    assert sent["individual"] == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+14155550100",
        "ssn_last_4": "0000",
        "dob": {"day": 10, "month": 12, "year": 1990},
        "address": {
            "line1": "1 Main St",
            "city": "Springfield",
            "postal_code": "62701",
            "state": "IL",
        },
        "verification": {
            "document": {"front": "file_front"},
            "additional_document": {"front": "file_extra"},
        },
    }
    assert sent["business_profile"] == {"mcc": "5734", "url": "https://ada.example.com"}
    assert sent["external_account"] == {
        "object": "bank_account",
        "country": "US",
        "currency": "usd",
        "account_holder_name": "Ada Lovelace",
        "account_holder_type": "individual",
        "routing_number": "110000000",
        "account_number": "000123456789",
    }
    assert sent["tos_ip"] == "203.0.113.7"
    assert sent["tos_date"] is not None
    seller.profile.refresh_from_db()
    assert seller.profile.charges_enabled
    assert seller.profile.tos_ip == "203.0.113.7"


def test_only_what_is_due_is_sent(client, seller, gw):
    gw.due(["business_profile.mcc", "business_profile.url"])
    gw.account_update_custom.return_value = {"id": "acct_new", "requirements": {}}
    response = client.post(
        reverse("accounts:onboarding"),
        {"mcc": "5945", "url": "", "product_description": "Wooden toys"},
    )
    assert response.status_code == 302
    sent = gw.account_update_custom.call_args.kwargs
    assert sent["business_profile"] == {"mcc": "5945", "product_description": "Wooden toys"}
    assert sent["individual"] is None
    assert sent["external_account"] is None
    assert sent["business_type"] == ""
    assert sent["tos_date"] is None  # no terms asked for, none claimed accepted
    gw.file_upload.assert_not_called()


def test_what_stripe_still_needs_after_a_submission_is_shown(client, seller, gw):
    gw.due(["individual.phone"])
    gw.account_update_custom.return_value = {
        "id": "acct_new",
        "requirements": {"currently_due": ["individual.verification.document"]},
    }
    response = client.post(reverse("accounts:onboarding"), {"phone": "+14155550100"}, follow=True)
    html = response.content.decode()
    assert "Stripe still needs: Upload an identity document" in html
    assert page_fields(response) == {"document"}  # the next form asks for it


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ssn_last_4": "12a4"}, "ssn_last_4"),
        ({"routing_number": "1100"}, "routing_number"),
        ({"url": "", "product_description": ""}, "url"),
        ({"email": "not-an-email"}, "email"),
        ({"tos": ""}, "tos"),
        ({"dob": "2020-01-01"}, "dob"),
        ({"mcc": "0000"}, "mcc"),
    ],
)
def test_bad_input_is_a_field_error_and_sends_nothing(client, seller, gw, overrides, field):
    data = {key: value for key, value in {**everything(), **overrides}.items() if value != ""}
    response = client.post(reverse("accounts:onboarding"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    gw.file_upload.assert_not_called()
    gw.account_update_custom.assert_not_called()


def test_stripe_refusing_a_value_is_shown_on_the_form(client, seller, gw):
    gw.due(["individual.phone"])
    gw.account_update_custom.side_effect = gateway.GatewayRejected(
        "Invalid phone number: +1", code="", param="individual[phone]", status=400
    )
    response = client.post(reverse("accounts:onboarding"), {"phone": "+1 555"})
    assert response.status_code == 200
    assert "Stripe could not accept these details: Invalid phone number" in (
        response.content.decode()
    )


def test_stripe_unreachable_is_a_message_not_an_error_page(client, seller, gw):
    gw.account_retrieve.side_effect = gateway.GatewayUnavailable("down")
    page = client.get(reverse("accounts:onboarding"), follow=True)
    assert page.status_code == 200
    assert "Payment service is unreachable, please retry" in page.content.decode()


# --- against the sandbox, which asks what Stripe asks -------------------------------


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxHandle]:
    with run_sandbox() as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server: SandboxHandle, settings) -> Iterator[SandboxHandle]:
    sandbox_server.reset()
    settings.STRIPE_API_BASE = sandbox_server.base_url
    settings.STRIPE_SECRET_KEY = sandbox_server.secret_key
    settings.STRIPE_IDEMPOTENCY_PREFIX = "custom-onboarding"
    settings.CONNECT_ONBOARDING = "custom"
    gateway.reset_client()
    yield sandbox_server
    gateway.reset_client()


@pytest.mark.sandbox
def test_the_old_form_would_leave_the_account_disabled_on_the_sandbox(client, seller, sandbox):
    """What the form sent before (name, date of birth, address, documents, terms) is
    not enough: the sandbox, like Stripe, keeps the account disabled and says why."""
    client.get(reverse("accounts:onboarding"))
    old = {
        key: everything()[key]
        for key in (
            "first_name",
            "last_name",
            "dob",
            "address_line1",
            "city",
            "state",
            "postal_code",
            "document",
            "additional_document",
            "tos",
        )
    }
    response = client.post(reverse("accounts:onboarding"), old)
    # The form refuses to send it without the rest of what is due…
    assert set(response.context["form"].errors) == {
        "email",
        "phone",
        "ssn_last_4",
        "mcc",
        "url",
        *BANK,
    }
    # …and the sandbox, sent it as the old form did, keeps the account disabled.
    seller.profile.refresh_from_db()
    account = gateway.account_update_custom(
        account=seller.profile.stripe_id,
        business_type="individual",
        individual={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "dob": {"day": 10, "month": 12, "year": 1990},
            "address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "62701"},
        },
        tos_date=1_700_000_000,
        tos_ip="203.0.113.9",
        idempotency_key="old-form",
    )
    assert not account["charges_enabled"]
    assert {"individual.ssn_last_4", "external_account", "business_profile.mcc"} <= set(
        account["requirements"]["currently_due"]
    )


@pytest.mark.sandbox
def test_custom_onboarding_enables_the_account_on_the_sandbox(client, seller, sandbox):
    page = client.get(reverse("accounts:onboarding"))
    assert page_fields(page) >= {"ssn_last_4", "phone", "email", "mcc", "routing_number"}

    response = client.post(reverse("accounts:onboarding"), everything(), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    assert response.url == reverse("accounts:dashboard")

    seller.profile.refresh_from_db()
    assert seller.profile.charges_enabled
    account = gateway.account_retrieve(account=seller.profile.stripe_id)
    assert account["requirements"]["currently_due"] == []
    assert account["individual"]["ssn_last_4_provided"] is True
    assert account["tos_acceptance"]["ip"] == "203.0.113.9"
    assert account["external_accounts"]["data"][0]["last4"] == "6789"


# --- the bank account in the accounts' country's format ----------------------------


@pytest.mark.sandbox
def test_a_uk_contractor_gives_a_sort_code_and_is_paid_in_pounds(client, seller, sandbox, settings):
    """Before, the form asked every country for a US routing number and sent the
    shop's currency: Stripe (and now the sandbox) refuses that for a UK account."""
    settings.CONNECT_COUNTRY = "GB"
    page = client.get(reverse("accounts:onboarding"))
    form = page.context["form"]
    assert form.fields["routing_number"].label == "Sort code"
    assert "ssn_last_4" not in form.fields  # not asked of a UK individual

    uk = {**everything(), "postal_code": "N1 1AA", "city": "London", "state": ""}
    wrong = client.post(reverse("accounts:onboarding"), {**uk, "routing_number": "110000000"})
    assert "routing_number" in wrong.context["form"].errors

    uk.update(routing_number="10-88-00", account_number="0001 2345", **documents())
    response = client.post(reverse("accounts:onboarding"), uk, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302, response.context["form"].errors
    seller.profile.refresh_from_db()
    assert seller.profile.charges_enabled
    account = gateway.account_retrieve(account=seller.profile.stripe_id)
    [bank] = account["external_accounts"]["data"]
    assert (bank["country"], bank["currency"], bank["routing_number"], bank["last4"]) == (
        "GB",
        "gbp",
        "108800",
        "2345",
    )


def test_an_iban_country_asks_for_the_iban_alone(client, seller, gw, settings):
    settings.CONNECT_COUNTRY = "DE"
    form = client.get(reverse("accounts:onboarding")).context["form"]
    assert form.fields["account_number"].label == "IBAN"
    assert "routing_number" not in form.fields

    bad = {**everything(), "account_number": "DE89 3704 0044 0532 0130 01"}
    response = client.post(reverse("accounts:onboarding"), bad)
    assert "not a valid DE IBAN" in str(response.context["form"].errors["account_number"])
    gw.account_update_custom.assert_not_called()

    good = {**everything(), "account_number": "de89 3704 0044 0532 0130 00"}
    client.post(reverse("accounts:onboarding"), good)
    sent = gw.account_update_custom.call_args.kwargs["external_account"]
    assert sent == {
        "object": "bank_account",
        "country": "DE",
        "currency": "eur",
        "account_holder_name": "Ada Lovelace",
        "account_holder_type": "individual",
        "account_number": "DE89370400440532013000",
    }


def test_a_country_whose_bank_format_the_form_does_not_know_goes_to_stripe(
    client, seller, gw, settings
):
    settings.CONNECT_COUNTRY = "JP"
    form = client.get(reverse("accounts:onboarding")).context["form"]
    assert not {"routing_number", "account_number"} & set(form.fields)
    assert "external_account" in form.unknown
