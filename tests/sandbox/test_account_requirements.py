"""The sandbox asks a custom account for what Stripe asks before enabling it
(issue #18, item 3; stripe_sandbox/resources/account_requirements.py).

Before: name, date of birth, two documents and the terms enabled any custom
account, so a form that never collected the SSN, address, email, phone, business
details or a bank account looked finished on the sandbox and never would on Stripe.
"""

from __future__ import annotations

import pytest
import stripe

from .helpers import BANK_ACCOUNT, BUSINESS, US_INDIVIDUAL, custom_account, with_documents

TOS = {"date": 1_700_000_000, "ip": "203.0.113.9"}


def create(client, *, documented: bool = False, **params) -> stripe.Account:
    """A custom account; `documented`: then given its identity documents, its own files."""
    account = client.v1.accounts.create(params={"type": "custom", **params})
    return with_documents(client, account.id) if documented else account


def test_what_enabled_an_account_before_is_not_enough(client):
    account = create(
        client,
        country="US",
        business_type="individual",
        tos_acceptance=TOS,
        individual={
            "first_name": "Jenny",
            "last_name": "Rosen",
            "dob": {"day": 1, "month": 2, "year": 1990},
        },
        documented=True,
    )
    assert not account.charges_enabled
    assert not account.payouts_enabled
    assert account.capabilities.card_payments == "inactive"
    assert account.requirements.currently_due == [
        "business_profile.mcc",
        "business_profile.url",
        "external_account",
        "individual.address.city",
        "individual.address.line1",
        "individual.address.postal_code",
        "individual.address.state",
        "individual.email",
        "individual.phone",
        "individual.ssn_last_4",
    ]
    # Stripe's way of saying a product description may stand in for a website.
    [alternative] = account.requirements.alternatives
    assert alternative.original_fields_due == ["business_profile.url"]
    assert alternative.alternative_fields_due == ["business_profile.product_description"]


def test_a_new_account_is_asked_for_everything(client):
    account = create(client, country="US")
    due = account.requirements.currently_due
    assert "business_type" in due
    assert {"tos_acceptance.date", "tos_acceptance.ip", "individual.first_name"} <= set(due)
    assert due == sorted(due)


def test_the_whole_us_list_enables_the_account(client):
    account = custom_account(client)
    assert account.charges_enabled
    assert account.payouts_enabled
    assert account.requirements.currently_due == []
    assert account.requirements.alternatives == []
    assert account.individual.ssn_last_4_provided is True
    assert "ssn_last_4" not in account.individual  # never shown back


def test_alternatives_a_product_description_and_the_full_id_number(client):
    person = {key: value for key, value in US_INDIVIDUAL.items() if key != "ssn_last_4"}
    account = create(
        client,
        country="US",
        business_type="individual",
        business_profile={"mcc": "5734", "product_description": "Wooden toys"},
        external_account=BANK_ACCOUNT,
        tos_acceptance=TOS,
        individual={**person, "id_number": "000000000"},
        documented=True,
    )
    assert account.requirements.currently_due == []
    assert account.charges_enabled


def test_the_rest_can_come_later_and_enables_the_account_then(client):
    person = {key: value for key, value in US_INDIVIDUAL.items() if key != "phone"}
    account = create(
        client,
        country="US",
        business_type="individual",
        business_profile=BUSINESS,
        tos_acceptance=TOS,
        individual=person,
        documented=True,
    )
    assert account.requirements.currently_due == ["external_account", "individual.phone"]
    account = client.v1.accounts.update(
        account.id, params={"individual": {"phone": "+14155550100"}}
    )
    assert account.requirements.currently_due == ["external_account"]
    account = client.v1.accounts.update(account.id, params={"external_account": BANK_ACCOUNT})
    assert account.charges_enabled


def test_a_uk_individual_needs_no_ssn_and_no_state(client):
    person = {key: value for key, value in US_INDIVIDUAL.items() if key != "ssn_last_4"}
    person["address"] = {"line1": "1 High St", "city": "London", "postal_code": "N1 1AA"}
    account = create(
        client,
        country="GB",
        business_type="individual",
        business_profile=BUSINESS,
        external_account={
            **BANK_ACCOUNT,
            "country": "GB",
            "currency": "gbp",
            "routing_number": "108800",
            "account_number": "00012345",
        },
        tos_acceptance=TOS,
        individual=person,
        documented=True,
    )
    assert account.requirements.currently_due == []
    assert account.charges_enabled


def test_a_country_the_sandbox_does_not_model_also_needs_the_id_number(client):
    person = {key: value for key, value in US_INDIVIDUAL.items() if key != "ssn_last_4"}
    account = create(
        client,
        country="BR",
        business_type="individual",
        business_profile=BUSINESS,
        external_account=BANK_ACCOUNT,
        tos_acceptance=TOS,
        individual=person,
        documented=True,
    )
    assert account.requirements.currently_due == ["individual.id_number"]


def test_a_company_needs_its_details_a_representative_and_owners(client):
    account = create(
        client,
        country="US",
        business_type="company",
        business_profile=BUSINESS,
        external_account=BANK_ACCOUNT,
        tos_acceptance=TOS,
        company={"name": "Rosen Toys LLC", "tax_id": "000000000"},
    )
    assert not account.charges_enabled
    assert account.requirements.currently_due == [
        "company.address.city",
        "company.address.line1",
        "company.address.postal_code",
        "company.address.state",
        "company.owners_provided",
        "company.phone",
        "relationship.representative",
    ]
    assert account.company.tax_id_provided is True
    assert "tax_id" not in account.company


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"business_profile": {"mcc": "57"}}, "business_profile[mcc]"),
        ({"business_profile": {"url": "not a url"}}, "business_profile[url]"),
        ({"individual": {"ssn_last_4": "12345"}}, "individual[ssn_last_4]"),
        ({"individual": {"email": "nobody"}}, "individual[email]"),
        ({"individual": {"dob": {"day": 31, "month": 2, "year": 1990}}}, "individual[dob]"),
        ({"individual": {"dob": {"day": 1, "month": 1, "year": 2024}}}, "individual[dob][year]"),
    ],
)
def test_values_stripe_refuses_are_refused(client, params, param):
    account = create(client, country="US")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.accounts.update(account.id, params=params)
    assert refused.value.param == param
    assert refused.value.http_status == 400


def test_hosted_onboarding_still_enables_a_custom_account(sandbox, client):
    account = create(client, country="US")
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://shop.test/refresh",
            "return_url": "https://shop.test/done",
        }
    )
    sandbox.sandbox.onboarding_complete(link.url.rsplit("/", 1)[1])
    account = client.v1.accounts.retrieve(account.id)
    assert account.charges_enabled
    assert account.requirements.currently_due == []
