"""Values Stripe refuses in an account's details, refused here the same way (400,
``param`` naming the field). The wording of the messages is the sandbox's own."""

from __future__ import annotations

import datetime
import re
from typing import Any

from ..errors import invalid_request

DIGITS4 = re.compile(r"\d{4}")
URL = re.compile(r"(https?://)?[\w-]+(\.[\w-]+)+(:\d+)?(/\S*)?", re.IGNORECASE)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE = re.compile(r"\+?[\d\s().-]{7,20}")


def _refuse(message: str, param: str) -> None:
    raise invalid_request(message, param=param)


def business_profile(profile: dict[str, Any]) -> None:
    mcc = profile.get("mcc")
    if mcc not in (None, "") and not DIGITS4.fullmatch(str(mcc)):
        _refuse(
            "Invalid MCC: it must be a 4-digit merchant category code.", "business_profile[mcc]"
        )
    url = profile.get("url")
    if url not in (None, "") and not URL.fullmatch(str(url)):
        _refuse("Not a valid URL", "business_profile[url]")


def individual(person: dict[str, Any]) -> None:
    ssn = person.get("ssn_last_4")
    if ssn not in (None, "") and not DIGITS4.fullmatch(str(ssn)):
        _refuse("The last 4 digits of the SSN must be 4 digits.", "individual[ssn_last_4]")
    email = person.get("email")
    if email not in (None, "") and not EMAIL.fullmatch(str(email)):
        _refuse("Invalid email address: " + str(email), "individual[email]")
    phone = person.get("phone")
    if phone not in (None, "") and not PHONE.fullmatch(str(phone)):
        _refuse("Invalid phone number: " + str(phone), "individual[phone]")
    _dob(person.get("dob"))


def _dob(dob: Any) -> None:
    if not isinstance(dob, dict) or not all(dob.get(k) for k in ("day", "month", "year")):
        return
    try:
        born = datetime.date(int(dob["year"]), int(dob["month"]), int(dob["day"]))
    except (TypeError, ValueError):
        _refuse("Invalid date of birth.", "individual[dob]")
        return
    # Stripe's terms: an account holder must be at least 13 years old.
    today = datetime.date.today()
    if (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) < 13:
        _refuse("You must be at least 13 years of age.", "individual[dob][year]")


def company(details: dict[str, Any]) -> None:
    phone = details.get("phone")
    if phone not in (None, "") and not PHONE.fullmatch(str(phone)):
        _refuse("Invalid phone number: " + str(phone), "company[phone]")
