"""How a bank account is written in each country the custom onboarding form knows.

Stripe takes a connected account's bank account as `routing_number` plus
`account_number`, in the country's own format: a US routing number (9 digits, with
its check digit), a UK sort code, a Canadian transit and institution number, an
Australian BSB; in the IBAN countries (the EEA and Switzerland) the IBAN is the
account number and there is no routing number. The payout currency is the
country's. A country not listed here is left to Stripe's hosted onboarding.
"""

import re
from dataclasses import dataclass

from django import forms


@dataclass(frozen=True)
class BankFormat:
    currency: str
    account_label: str
    account_pattern: str  # a regex of the whole number, after spaces are removed
    account_help: str
    routing_label: str = ""  # empty: no routing number (IBAN countries)
    routing_pattern: str = ""
    routing_help: str = ""
    iban: bool = False

    def clean_routing(self, value: str) -> str:
        digits = re.sub(r"[\s-]", "", value)
        if not re.fullmatch(self.routing_pattern, digits):
            raise forms.ValidationError(f"Enter {self.routing_help}.")
        if self.currency == "usd" and not aba_checksum_ok(digits):
            raise forms.ValidationError("This is not a valid US routing number: check it.")
        if self.currency == "cad":  # Stripe writes it as transit-institution
            return f"{digits[:5]}-{digits[5:]}"
        return digits

    def clean_account(self, value: str, country: str) -> str:
        number = re.sub(r"\s", "", value).upper()
        if not re.fullmatch(self.account_pattern, number):
            raise forms.ValidationError(f"Enter {self.account_help}.")
        if self.iban and not iban_ok(number, country):
            raise forms.ValidationError(
                f"This is not a valid {country} IBAN: check the letters and digits."
            )
        return number


def aba_checksum_ok(digits: str) -> bool:
    """A US routing number's check digit (weights 3, 7, 1)."""
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 10 == 0


def iban_ok(iban: str, country: str) -> bool:
    """ISO 13616: the country's own IBAN whose check digits add up (mod 97)."""
    if not iban.startswith(country) or not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


US = BankFormat(
    currency="usd",
    routing_label="Routing number",
    routing_pattern=r"\d{9}",
    routing_help="the 9 digits of the routing number",
    account_label="Account number",
    account_pattern=r"\d{4,17}",
    account_help="the account number, digits only",
)
GB = BankFormat(
    currency="gbp",
    routing_label="Sort code",
    routing_pattern=r"\d{6}",
    routing_help="the 6 digits of the sort code (12-34-56)",
    account_label="Account number",
    account_pattern=r"\d{8}",
    account_help="the 8 digits of the account number",
)
CA = BankFormat(
    currency="cad",
    routing_label="Transit and institution number",
    routing_pattern=r"\d{8}",
    routing_help="the 5-digit transit number and the 3-digit institution number",
    account_label="Account number",
    account_pattern=r"\d{7,12}",
    account_help="the account number, digits only",
)
AU = BankFormat(
    currency="aud",
    routing_label="BSB",
    routing_pattern=r"\d{6}",
    routing_help="the 6 digits of the BSB",
    account_label="Account number",
    account_pattern=r"\d{5,9}",
    account_help="the account number, digits only",
)
# The IBAN countries and the currency their accounts are paid in.
IBAN_CURRENCIES = {
    **dict.fromkeys(
        ("AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR")
        + ("IE", "IT", "LT", "LU", "LV", "MT", "NL", "PT", "SI", "SK"),
        "eur",
    ),
    "BG": "bgn",
    "CH": "chf",
    "CZ": "czk",
    "DK": "dkk",
    "HU": "huf",
    "LI": "chf",
    "NO": "nok",
    "PL": "pln",
    "RO": "ron",
    "SE": "sek",
}


def bank_format(country: str) -> BankFormat | None:
    """The country's format, or None when the form leaves it to Stripe's own page."""
    country = country.upper()
    if country in IBAN_CURRENCIES:
        return BankFormat(
            currency=IBAN_CURRENCIES[country],
            account_label="IBAN",
            account_pattern=r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}",
            account_help=f"your IBAN ({country}…)",
            iban=True,
        )
    return {"US": US, "GB": GB, "CA": CA, "AU": AU}.get(country)
