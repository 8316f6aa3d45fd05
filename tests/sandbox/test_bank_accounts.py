"""Bank accounts as Stripe takes them: each country's format and currency, and a new
one replacing the default for its currency."""

from __future__ import annotations

import pytest
import stripe

from .helpers import BANK_ACCOUNT


def account_in(client, country: str) -> stripe.Account:
    return client.v1.accounts.create(
        {"type": "custom", "country": country, "email": f"bank-{country}@example.com"}
    )


@pytest.mark.parametrize(
    ("country", "bank"),
    [
        ("US", {"routing_number": "110000000", "account_number": "000123456789"}),
        ("GB", {"routing_number": "108800", "account_number": "00012345", "currency": "gbp"}),
        (
            "CA",
            {"routing_number": "11000-000", "account_number": "000123456789", "currency": "cad"},
        ),
        ("AU", {"routing_number": "110000", "account_number": "000123456", "currency": "aud"}),
        ("DE", {"account_number": "DE89370400440532013000", "currency": "eur"}),
        ("CH", {"account_number": "CH9300762011623852957", "currency": "chf"}),
    ],
)
def test_each_countrys_own_format_is_taken(client, country, bank):
    account = account_in(client, country)
    details = {"object": "bank_account", "country": country, "currency": "usd", **bank}
    updated = client.v1.accounts.update(account.id, {"external_account": details})
    [saved] = updated.external_accounts.data
    assert saved.last4 == bank["account_number"][-4:]


@pytest.mark.parametrize(
    ("country", "bank", "param", "code"),
    [
        # A US routing number whose check digit is wrong.
        ("US", {"routing_number": "123456789"}, "routing_number", "routing_number_invalid"),
        # A US routing number for a UK account (the mistake the form used to make).
        ("GB", {"routing_number": "110000000", "currency": "gbp"}, "routing_number", None),
        ("GB", {"routing_number": "108800", "account_number": "123", "currency": "gbp"},
         "account_number", "account_number_invalid"),
        ("GB", {"routing_number": "108800", "account_number": "00012345", "currency": "usd"},
         "currency", "invalid_currency"),
        # Another country's IBAN, and one whose check digits do not add up.
        ("DE", {"account_number": "FR1420041010050500013M02606", "currency": "eur"},
         "account_number", "account_number_invalid"),
        ("DE", {"account_number": "DE89370400440532013001", "currency": "eur"},
         "account_number", "account_number_invalid"),
    ],
)  # fmt: skip
def test_a_number_stripe_would_refuse_is_refused(client, country, bank, param, code):
    account = account_in(client, country)
    details = {**BANK_ACCOUNT, "country": country, **bank}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.accounts.update(account.id, {"external_account": details})
    assert refused.value.param == f"external_account[{param}]"
    assert refused.value.code == (code or "routing_number_invalid")
    assert not client.v1.accounts.retrieve(account.id).external_accounts.data


def test_a_new_bank_account_replaces_the_default_for_its_currency(client):
    account = account_in(client, "US")
    first = {**BANK_ACCOUNT, "account_number": "000123456789"}
    client.v1.accounts.update(account.id, {"external_account": first})
    second = {**BANK_ACCOUNT, "account_number": "000999999999"}
    updated = client.v1.accounts.update(account.id, {"external_account": second})
    assert [(b.last4, b.default_for_currency) for b in updated.external_accounts.data] == [
        ("9999", True)
    ]
