"""Product prices as sellers type them: major units in one of the shop's currencies.

"45.00" in USD is 4500 minor units, "1,500" in JPY is 1500. `core.money` knows how
many decimals a currency has; this module adds what a price must also be to be sold
here: a supported currency, grouping commas placed as people write them, Stripe's
limits, and enough left over once the platform has taken its fee.
"""

import re

from django.conf import settings

from core.money import SYMBOLS, InvalidAmount, currency_exponent, format_amount, parse_amount

from .fees import platform_fee
from .services import MAX_ORDER_AMOUNT

# Stripe's smallest charge per currency (its "minimum and maximum charge amounts"),
# for the currencies it lists and we are likely to offer; others are left to Stripe.
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "jpy": 50, "aud": 50, "cad": 50, "chf": 50}

# Digits with an optional decimal part; commas only between groups of three digits,
# so "1,500" is fifteen hundred and "1,50" is refused rather than guessed at. ASCII
# digits only: Python's \d would take other scripts' digits too.
_PRICE_RE = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?$", re.ASCII)


class PriceError(ValueError):
    """A price that cannot be sold; the message is fit to show next to the field."""


def supported_currencies() -> list[str]:
    """The currencies sellers may price in (settings.SHOP_CURRENCIES), lowercase."""
    return list(settings.SHOP_CURRENCIES)


def currency_choices() -> list[tuple[str, str]]:
    """(code, label) pairs for a choice field: "usd" → "USD ($)"."""
    choices = []
    for code in supported_currencies():
        symbol = SYMBOLS.get(code)
        choices.append((code, f"{code.upper()} ({symbol})" if symbol else code.upper()))
    return choices


def price_example(currency: str) -> str:
    """A price written the way this currency is typed, for help texts and errors."""
    return {0: "1,500", 3: "4.500"}.get(currency_exponent(currency), "45.00")


def price_parse(text: str, currency: str) -> int:
    """The minor units of a typed price ("1,234.50" → 123450 in USD), checked as a
    price we can sell; raises PriceError with a message for the seller."""
    if currency not in supported_currencies():
        raise PriceError(f"Prices in {currency.upper()} are not supported here.")
    cleaned = (text or "").strip()
    if not _PRICE_RE.match(cleaned):
        raise PriceError(
            f"Enter a price such as {price_example(currency)} "
            "(digits, a point for decimals, commas only between thousands)."
        )
    try:
        amount = parse_amount(cleaned.replace(",", ""), currency)
    except InvalidAmount as exc:
        raise PriceError(str(exc)) from None
    price_check(amount, currency)
    return amount


def price_check(amount: int, currency: str) -> None:
    """Refuse a price (minor units) that could not be charged or that the platform fee
    would eat; the same rule for the sellers' pages, the API and admin."""
    if amount <= 0:
        raise PriceError("Enter a price above zero.")
    if amount > MAX_ORDER_AMOUNT:
        raise PriceError(
            f"The highest price is {format_amount(MAX_ORDER_AMOUNT, currency)}: "
            "card payments above it are refused."
        )
    if currency_exponent(currency) == 3 and amount % 10:
        # Stripe takes three-decimal currencies only with the last decimal at zero.
        raise PriceError(f"{currency.upper()} prices must end in 0 (e.g. 4.510, not 4.515).")
    minimum = MINIMUM_CHARGE.get(currency)
    if minimum is not None and amount < minimum:
        raise PriceError(
            f"The lowest price in {currency.upper()} is {format_amount(minimum, currency)}: "
            "card payments below it are refused."
        )
    fee = platform_fee(amount)
    if fee >= amount:
        raise PriceError(
            f"The platform fee on {format_amount(amount, currency)} is "
            f"{format_amount(fee, currency)}, which would leave you nothing. "
            "Set a higher price."
        )
