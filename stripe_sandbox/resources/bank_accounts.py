"""A connected account's bank account, checked as Stripe checks it.

Stripe refuses a bank account whose numbers are not in its country's format (a US
routing number of 9 digits with a valid check digit, a UK sort code and 8-digit
account number, a Canadian transit-institution number, an Australian BSB, an IBAN
of the account's country in the IBAN countries) and a currency the country's banks
are not paid in (``routing_number_invalid``, ``account_number_invalid``,
``invalid_currency``). Other countries are not checked (README).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import invalid_request

PARAM = "external_account"
# country → (routing pattern or None for an IBAN, account pattern, currencies)
FORMATS: dict[str, tuple[str | None, str, frozenset[str]]] = {
    "US": (r"\d{9}", r"\d{4,17}", frozenset({"usd"})),
    "GB": (r"\d{6}", r"\d{8}", frozenset({"gbp"})),
    "CA": (r"\d{5}-\d{3}", r"\d{7,12}", frozenset({"cad", "usd"})),
    "AU": (r"\d{6}", r"\d{5,9}", frozenset({"aud"})),
}
EURO = "AT BE CY DE EE ES FI FR GR HR IE IT LT LU LV MT NL PT SI SK"
IBAN_CURRENCIES: dict[str, frozenset[str]] = {
    **{country: frozenset({"eur"}) for country in EURO.split()},
    "BG": frozenset({"bgn", "eur"}),
    "CH": frozenset({"chf", "eur"}),
    "CZ": frozenset({"czk", "eur"}),
    "DK": frozenset({"dkk", "eur"}),
    "HU": frozenset({"huf", "eur"}),
    "LI": frozenset({"chf", "eur"}),
    "NO": frozenset({"nok", "eur"}),
    "PL": frozenset({"pln", "eur"}),
    "RO": frozenset({"ron", "eur"}),
    "SE": frozenset({"sek", "eur"}),
}


def check(details: dict[str, Any], country: str) -> None:
    """Refuse a bank account Stripe would refuse for an account in ``country``."""
    country = str(details.get("country") or country).upper()
    currency = str(details.get("currency") or "").lower()
    number = str(details.get("account_number") or "")
    routing = str(details.get("routing_number") or "")
    if country in IBAN_CURRENCIES:
        if not _iban_ok(number, country):
            raise invalid_request(
                f"The account number {_masked(number)} is not a valid {country} IBAN.",
                param=f"{PARAM}[account_number]",
                code="account_number_invalid",
            )
        _check_currency(currency, IBAN_CURRENCIES[country], country)
        return
    if country not in FORMATS:
        return
    routing_pattern, account_pattern, currencies = FORMATS[country]
    if routing_pattern and not (
        re.fullmatch(routing_pattern, routing) and (country != "US" or _aba_ok(routing))
    ):
        raise invalid_request(
            f"Invalid routing number for {country}: {routing or '(none)'}.",
            param=f"{PARAM}[routing_number]",
            code="routing_number_invalid",
        )
    if not re.fullmatch(account_pattern, number):
        raise invalid_request(
            f"Invalid account number for {country}: {_masked(number)}.",
            param=f"{PARAM}[account_number]",
            code="account_number_invalid",
        )
    _check_currency(currency, currencies, country)


def _check_currency(currency: str, allowed: frozenset[str], country: str) -> None:
    if currency and currency not in allowed:
        raise invalid_request(
            f"A bank account in {country} cannot be paid in {currency}; it takes "
            f"{', '.join(sorted(allowed))}.",
            param=f"{PARAM}[currency]",
            code="invalid_currency",
        )


def _aba_ok(digits: str) -> bool:
    return sum(int(d) * w for d, w in zip(digits, (3, 7, 1) * 3, strict=True)) % 10 == 0


def _iban_ok(iban: str, country: str) -> bool:
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban) or not iban.startswith(country):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _masked(number: str) -> str:
    return f"••••{number[-4:]}" if len(number) > 4 else "(too short)"
