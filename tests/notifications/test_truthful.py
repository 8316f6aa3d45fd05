"""Notifications say only what is true: no "restricted" for an account that is enabled
or has not started onboarding, one message per event per person, no raw codes."""

import re

import pytest
from django.core import mail

from accounts.models import UserProfile
from notifications.models import Notification
from payments import gateway
from payments.services import connect
from tests.factories import ContractorFactory

pytestmark = pytest.mark.django_db

NEW_ACCOUNT_DUE = [
    "business_profile.url",
    "external_account",
    "individual.dob.day",
    "individual.verification.document",
    "tos_acceptance.date",
]


@pytest.fixture
def run(celery_eager, django_capture_on_commit_callbacks):
    def call(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return call


def account(account_id, *, enabled, submitted, due=(), reason=None):
    requirements = {"currently_due": list(due)}
    if reason:
        requirements["disabled_reason"] = reason
    return {
        "id": account_id,
        "charges_enabled": enabled,
        "payouts_enabled": enabled,
        "details_submitted": submitted,
        "requirements": requirements,
    }


def told(user):
    return list(Notification.objects.filter(recipient=user, kind="requirements_due"))


def test_a_new_contractor_hears_nothing_when_their_account_is_created(run, monkeypatch):
    seller = ContractorFactory()
    monkeypatch.setattr(
        gateway,
        "account_create",
        lambda **kw: account("acct_new", enabled=False, submitted=False, due=NEW_ACCOUNT_DUE),
    )

    run(connect.contractor_account_ensure, user_id=seller.pk)

    assert UserProfile.objects.get(user=seller).stripe_id == "acct_new"
    assert told(seller) == []
    assert not mail.outbox


def test_signing_up_as_a_contractor_brings_no_restricted_alert(client, run, monkeypatch):
    monkeypatch.setattr(
        gateway,
        "account_create",
        lambda **kw: account("acct_signup", enabled=False, submitted=False, due=NEW_ACCOUNT_DUE),
    )
    form = {
        "email": "carol@example.com",
        "role": "contractor",
        "password1": "a-long-and-unusual-passphrase",
        "password2": "a-long-and-unusual-passphrase",
    }

    run(client.post, "/accounts/signup/", form)
    profile = UserProfile.objects.get(user__email="carol@example.com")
    # Nothing at Stripe for an address nobody has proven yet.
    assert profile.stripe_id == ""
    [sent] = mail.outbox
    assert sent.subject == "Finish signing up"
    link = re.search(r"/accounts/signup/confirm/\S+", sent.body).group(0)

    run(client.post, link)

    profile.refresh_from_db()
    assert profile.stripe_id == "acct_signup"  # the account was made once proven…
    # …quietly: the one email is the sign-up link, never stored as a notification.
    assert not profile.user.notifications.exists()
    assert len(mail.outbox) == 1


def test_created_then_onboarded_at_once_is_never_called_restricted(run):
    """What seed_demo does for the demo's contractors."""
    seller = ContractorFactory(profile__stripe_id="acct_seed")
    run(
        connect.profile_apply_account,
        account("acct_seed", enabled=False, submitted=False, due=NEW_ACCOUNT_DUE),
    )
    run(connect.profile_apply_account, account("acct_seed", enabled=True, submitted=True))
    run(connect.profile_apply_account, account("acct_seed", enabled=True, submitted=True))

    assert told(seller) == []


def test_an_enabled_account_that_owes_details_is_not_called_restricted(run):
    seller = ContractorFactory(
        profile__stripe_id="acct_e", profile__charges_enabled=True, profile__details_submitted=True
    )

    run(
        connect.profile_apply_account,
        account("acct_e", enabled=True, submitted=True, due=["individual.id_number"]),
    )

    (note,) = told(seller)
    assert note.subject == "Stripe needs more information"
    assert "restricted" not in note.body_text.lower()
    assert "Your account is active" in note.body_text
    assert "Your ID number" in note.body_text


def test_an_account_stripe_disables_is_told_why_in_words(run):
    seller = ContractorFactory(
        profile__stripe_id="acct_r", profile__charges_enabled=True, profile__details_submitted=True
    )

    run(
        connect.profile_apply_account,
        account(
            "acct_r",
            enabled=False,
            submitted=True,
            due=["individual.dob.day", "individual.dob.month", "company.tax_id"],
            reason="requirements.past_due",
        ),
    )

    (note,) = told(seller)
    assert note.subject == "Your account is restricted"
    text = note.body_text + note.body_html
    assert "Stripe is waiting for details that are now overdue" in text
    assert "Date of birth, Your company&#x27;s tax ID" in note.body_html
    assert "Date of birth, Your company's tax ID" in note.body_text
    for raw in ("requirements.past_due", "individual.", "company.", "_"):
        assert raw not in note.body_text


def test_restricted_with_nothing_to_send_says_why(run):
    seller = ContractorFactory(
        profile__stripe_id="acct_u", profile__charges_enabled=True, profile__details_submitted=True
    )

    run(
        connect.profile_apply_account,
        account("acct_u", enabled=False, submitted=True, reason="under_review"),
    )

    (note,) = told(seller)
    assert "Stripe is reviewing your account" in note.body_text
    assert "Still needed" not in note.body_text


def test_one_message_per_change_and_per_person(run):
    seller = ContractorFactory(
        profile__stripe_id="acct_o", profile__charges_enabled=True, profile__details_submitted=True
    )
    due = ["individual.verification.document"]
    needs_more = account("acct_o", enabled=True, submitted=True, due=due)
    restricted = account("acct_o", enabled=False, submitted=True, due=due, reason="other")

    for update in (needs_more, needs_more, restricted, restricted):
        run(connect.profile_apply_account, update)

    assert [n.subject for n in reversed(told(seller))] == [
        "Stripe needs more information",
        "Your account is restricted",
    ]
    assert len(mail.outbox) == 2


def test_a_contractor_who_started_custom_onboarding_is_told(run):
    """Terms accepted through our own form count as started, even before Stripe says
    details_submitted."""
    from django.utils import timezone

    seller = ContractorFactory(profile__stripe_id="acct_c", profile__tos_accepted_at=timezone.now())

    run(
        connect.profile_apply_account,
        account("acct_c", enabled=False, submitted=False, due=["individual.verification.document"]),
    )

    (note,) = told(seller)
    assert "Upload an identity document" in note.body_text
