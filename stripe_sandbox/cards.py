"""Stripe's test cards and what each one does.

A PaymentMethod remembers only the card's *behaviour* (never the number), and
confirm/attach consult it to succeed, decline or ask for 3-D Secure exactly as
Stripe's documented test cards do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Decline:
    """How a declined card fails: the error ``code``, ``decline_code`` and message."""

    code: str
    decline_code: str
    message: str
    seller_message: str = "The bank did not return any further details with this decline."
    outcome_type: str = "issuer_declined"


GENERIC = Decline("card_declined", "generic_decline", "Your card was declined.")
DECLINES: dict[str, Decline] = {
    "card_declined": GENERIC,
    "insufficient_funds": Decline(
        "card_declined", "insufficient_funds", "Your card has insufficient funds."
    ),
    "lost_card": Decline("card_declined", "lost_card", "Your card was declined."),
    "stolen_card": Decline("card_declined", "stolen_card", "Your card was declined."),
    "expired_card": Decline("expired_card", "expired_card", "Your card has expired."),
    "incorrect_cvc": Decline(
        "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."
    ),
    "processing_error": Decline(
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    "authentication_required": Decline(
        "authentication_required",
        "authentication_required",
        "Your card was declined. This transaction requires authentication.",
    ),
}

# Behaviours: "success", "bypass_pending" (funds available at once), a DECLINES key,
# "charge_fails" (attaching works, charging declines), "3ds_setup" (3-D Secure unless
# set up for off-session use) and "3ds_always".
CARD_BEHAVIOUR: dict[str, str] = {
    "4242424242424242": "success",
    "4000056655665556": "success",
    "5555555555554444": "success",
    "2223003122003222": "success",
    "5200828282828210": "success",
    "378282246310005": "success",
    "6011111111111117": "success",
    "4000000000000077": "bypass_pending",
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000009987": "lost_card",
    "4000000000009979": "stolen_card",
    "4000000000000069": "expired_card",
    "4000000000000127": "incorrect_cvc",
    "4000000000000119": "processing_error",
    "4000000000000341": "charge_fails",
    "4000002500003155": "3ds_setup",
    "4000000000003220": "3ds_always",
    "4000000000003063": "3ds_always",
    "4000002760003184": "3ds_always",
    # Charged, then disputed (resources/disputes.py).
    "4000000000000259": "dispute_fraudulent",
    "4000000000002685": "dispute_product_not_received",
    "4000000000001976": "dispute_inquiry",
}

# `pm_card_*` shortcut ids → card number.
SHORTCUTS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_bypassPending": "4000000000000077",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_threeDSecure2Required": "4000000000003220",
    "pm_card_threeDSecureRequired": "4000000000003063",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_createDispute": "4000000000000259",
    "pm_card_createDisputeProductNotReceived": "4000000000002685",
    "pm_card_createDisputeInquiry": "4000000000001976",
}

# Declines that already fail when the card is attached to a customer (Stripe
# verifies the card then); insufficient funds only shows when charging.
FAILS_ON_ATTACH = frozenset(
    {
        "card_declined",
        "lost_card",
        "stolen_card",
        "expired_card",
        "incorrect_cvc",
        "processing_error",
    }
)


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("34", "37"):
        return "amex"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number.startswith(("6011", "65", "644", "645", "646", "647", "648", "649")):
        return "discover"
    if number.startswith(("36", "30", "38")):
        return "diners"
    if number.startswith("35"):
        return "jcb"
    return "unknown"


def card_details(number: str, exp_month: int, exp_year: int) -> dict:
    """The ``card`` hash of a PaymentMethod, as Stripe shows it."""
    brand = brand_of(number)
    return {
        "brand": brand,
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "unchecked",
        },
        "country": "US",
        "display_brand": brand,
        "exp_month": exp_month,
        "exp_year": exp_year,
        "fingerprint": hashlib.sha256(number.encode()).hexdigest()[:16],
        "funding": "debit" if number == "4000056655665556" else "credit",
        "generated_from": None,
        "last4": number[-4:],
        "networks": {"available": [brand], "preferred": None},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }
