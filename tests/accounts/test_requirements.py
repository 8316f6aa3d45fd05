"""Stripe's requirement codes and disabled reasons never reach a contractor raw."""

import re

import pytest
from django.urls import reverse

from accounts.requirements import disabled_reason_label, requirement_label, requirement_labels
from tests.factories import ContractorFactory

# Codes Stripe sends, most of them without a label of their own.
CODES = [
    "individual.address.state",
    "individual.verification.proof_of_liveness",
    "individual.political_exposure",
    "company.address.line1",
    "company.tax_id",
    "company.owners_provided",
    "representative.first_name",
    "person_1PxYz2Abc.verification.document",
    "person_1PxYz2Abc.relationship.title",
    "owners.email",
    "settings.card_payments.statement_descriptor_prefix",
    "business_profile.support_url",
    "something_new.from_stripe",
]
REASONS = [
    "requirements.past_due",
    "requirements.pending_verification",
    "rejected.fraud",
    "rejected.platform_other",
    "under_review",
    "platform_paused",
    "action_required.requested_capabilities",
    "rejected.something_new",
    "something_new",
]


@pytest.mark.parametrize("code", CODES)
def test_every_code_becomes_words(code):
    label = requirement_label(code)
    assert label
    assert not re.search(r"[._]", label), label
    assert not re.search(r"person_|1PxYz", label)


def test_labels_read_well():
    assert requirement_labels(["individual.dob.day", "individual.dob.year"]) == ["Date of birth"]
    assert requirement_label("company.address.state") == "Your company's address"
    assert requirement_label("person_1PxYz2Abc.verification.document") == (
        "A company owner's or director's identity document"
    )
    assert requirement_label("representative.first_name") == (
        "Your company representative's first name"
    )


@pytest.mark.parametrize("reason", REASONS)
def test_every_disabled_reason_becomes_words(reason):
    label = disabled_reason_label(reason)
    assert label
    assert not re.search(r"[._]", label), label


def test_not_disabled_is_no_words():
    assert disabled_reason_label(None) == ""
    assert disabled_reason_label("") == ""


@pytest.mark.django_db
def test_the_dashboard_and_onboarding_page_show_no_raw_codes(client):
    seller = ContractorFactory(
        profile__stripe_id="acct_raw",
        profile__charges_enabled=False,
        profile__details_submitted=True,
        profile__requirements={
            "currently_due": ["individual.dob.day", "company.tax_id", "external_account"],
            "past_due": ["individual.dob.day"],
            "disabled_reason": "requirements.past_due",
        },
    )
    client.force_login(seller)

    for url in (reverse("accounts:dashboard"), reverse("accounts:onboarding")):
        page = client.get(url).content.decode()
        main = page.split("<main", 1)[1]
        assert "Date of birth" in main
        assert "Add a bank account for payouts" in main
        for raw in ("requirements.past_due", "individual.dob", "company.tax_id", "(requirements"):
            assert raw not in main, (url, raw)
    dashboard = client.get(reverse("accounts:dashboard")).content.decode()
    assert "Stripe is waiting for details that are now overdue" in dashboard
