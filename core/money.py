"""Money is an integer amount of minor units plus a 3-letter lowercase currency.

This is the one place that knows how many decimals a currency has, used both to
show amounts and to read amounts typed by people. No floats anywhere.
"""

import re

# Stripe's zero-decimal currencies: 1 unit is the smallest amount (e.g. 500 JPY = 500).
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
# Stripe's three-decimal currencies.
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "krw": "₩", "inr": "₹"}

_AMOUNT_RE = re.compile(r"^\s*(?P<units>\d{1,15})(?:[.,](?P<fraction>\d*))?\s*$")


class InvalidAmount(ValueError):
    """A typed amount that cannot be read as money in the given currency."""


def currency_exponent(currency: str) -> int:
    """Number of decimal places of `currency` (0, 2 or 3)."""
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def format_amount(amount: int, currency: str) -> str:
    """Show `amount` minor units for people: format_amount(123456, "usd") == "$1,234.56"."""
    code = currency.lower()
    exponent = currency_exponent(code)
    sign = "-" if amount < 0 else ""
    units, fraction = divmod(abs(amount), 10**exponent)
    number = f"{units:,}"
    if exponent:
        number += "." + str(fraction).zfill(exponent)
    symbol = SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {code.upper()}"


def parse_amount(text: str, currency: str) -> int:
    """Read a typed amount ("12.5", "1234", "0,99") as minor units of `currency`.

    Refuses negative numbers, more decimals than the currency has, and anything
    that is not a plain number, with a message fit to show next to a form field.
    """
    match = _AMOUNT_RE.match(text or "")
    if not match:
        raise InvalidAmount("Enter an amount such as 12.50.")
    exponent = currency_exponent(currency)
    fraction = (match["fraction"] or "").rstrip("0")
    if len(fraction) > exponent:
        if exponent == 0:
            raise InvalidAmount(f"{currency.upper()} has no decimal places.")
        raise InvalidAmount(f"{currency.upper()} allows at most {exponent} decimal places.")
    return int(match["units"]) * 10**exponent + int(fraction.ljust(exponent, "0") or 0)


def to_decimal_string(amount: int, currency: str) -> str:
    """Minor units as a plain decimal string without symbol or grouping ("1234.50")."""
    exponent = currency_exponent(currency)
    units, fraction = divmod(abs(amount), 10**exponent)
    sign = "-" if amount < 0 else ""
    if not exponent:
        return f"{sign}{units}"
    return f"{sign}{units}.{str(fraction).zfill(exponent)}"
