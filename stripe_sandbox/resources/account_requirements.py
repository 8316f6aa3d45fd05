"""What a custom connected account must provide before charges and payouts are enabled.

From Stripe's "required verification information" (card_payments and transfers,
individuals and companies): for every country, the business type, a merchant
category code, a website *or* a product description, terms of service accepted
(date and IP) and a bank account for payouts; for an individual, the name, date of
birth, address, email and phone number, and in the United States also the last 4
digits of the SSN (or the full `id_number`); for a company, its name, address,
phone and tax id, a representative and its owners (the sandbox has no Persons API,
so a company is enabled only by hosted onboarding). Stricter than Stripe, the
sandbox always asks an individual for an identity document and an additional
document (Stripe asks for them when it cannot verify the details), and asks for the
`id_number` in countries it does not model (Stripe's list differs by country).
Codes are Stripe's, sorted as Stripe sorts them.
"""

from __future__ import annotations

from typing import Any

from ..store import Obj

# Countries whose lists are modelled: the United States, the United Kingdom,
# Switzerland and the European Economic Area.
EEA = {
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
}  # fmt: skip
MODELLED = {"US", "GB", "CH"} | EEA
# Where an address needs its state.
STATE_COUNTRIES = {"US"}

ADDRESS = ("line1", "city", "postal_code")
INDIVIDUAL = ("first_name", "last_name", "email", "phone")
COMPANY = ("name", "phone")


def _value(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _missing(obj: Any, prefix: str, paths: list[str]) -> list[str]:
    return [f"{prefix}.{path}" for path in paths if _value(obj, path) in (None, "")]


def _address(country: str) -> list[str]:
    fields = [f"address.{part}" for part in ADDRESS]
    if country in STATE_COUNTRIES:
        fields.append("address.state")
    return fields


def account_due(account: Obj) -> list[str]:
    """What every custom account needs, whatever its business type."""
    profile = account.get("business_profile") or {}
    due = _missing(account.get("tos_acceptance"), "tos_acceptance", ["date", "ip"])
    if not account.get("business_type"):
        due.append("business_type")
    if not profile.get("mcc"):
        due.append("business_profile.mcc")
    if not (profile.get("url") or profile.get("product_description")):
        due.append("business_profile.url")
    if not account["external_accounts"]["data"]:
        due.append("external_account")
    return due


def individual_due(account: Obj) -> list[str]:
    person = account.get("individual") or {}
    country = account.get("country") or "US"
    due = _missing(person, "individual", [*INDIVIDUAL, *_address(country)])
    due += _missing(person, "individual", ["dob.day", "dob.month", "dob.year"])
    provided = person.get("ssn_last_4_provided") or person.get("id_number_provided")
    if country == "US" and not provided:
        due.append("individual.ssn_last_4")
    if country not in MODELLED and not person.get("id_number_provided"):
        due.append("individual.id_number")
    verification = person.get("verification") or {}
    due += [
        f"individual.verification.{doc}"
        for doc in ("document", "additional_document")
        if not (verification.get(doc) or {}).get("front")
    ]
    return due


def company_due(account: Obj) -> list[str]:
    company = account.get("company") or {}
    country = account.get("country") or "US"
    due = _missing(company, "company", [*COMPANY, *_address(country)])
    if not company.get("tax_id_provided"):
        due.append("company.tax_id")
    if not company.get("owners_provided"):
        due.append("company.owners_provided")
    # A representative is a Person; the sandbox has none, so this stays due.
    due.append("relationship.representative")
    return due


def due_items(account: Obj) -> list[str]:
    """Everything still due on a custom account, as `requirements.currently_due`."""
    due = account_due(account)
    if account.get("business_type") in (None, "individual"):
        due += individual_due(account)
    else:  # company, non_profit, government_entity
        due += company_due(account)
    return sorted(set(due))


def alternatives(due: list[str]) -> list[Obj]:
    """Stripe's way of saying a product description may stand in for a website."""
    if "business_profile.url" not in due:
        return []
    return [
        {
            "alternative_fields_due": ["business_profile.product_description"],
            "original_fields_due": ["business_profile.url"],
        }
    ]
