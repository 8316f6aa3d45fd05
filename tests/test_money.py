import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import InvalidAmount, currency_exponent, format_amount, parse_amount

currencies = st.sampled_from(["usd", "eur", "gbp", "jpy", "krw", "chf", "kwd", "clp"])


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (123456, "usd", "$1,234.56"),
        (5, "eur", "€0.05"),
        (0, "gbp", "£0.00"),
        (500, "jpy", "¥500"),
        (1000, "krw", "₩1,000"),
        (1234, "chf", "12.34 CHF"),
        (1234, "kwd", "1.234 KWD"),
        (-250, "usd", "-$2.50"),
        (1500, "CLP", "1,500 CLP"),
    ],
)
def test_format_amount(amount, currency, shown):
    assert format_amount(amount, currency) == shown


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("12.50", "usd", 1250),
        ("12.5", "usd", 1250),
        ("12", "usd", 1200),
        ("0,99", "eur", 99),
        ("500", "jpy", 500),
        ("500.0", "jpy", 500),
        (" 7 ", "usd", 700),
        ("1.234", "kwd", 1234),
    ],
)
def test_parse_amount(text, currency, amount):
    assert parse_amount(text, currency) == amount


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("12.345", "usd", "at most 2 decimal places"),
        ("500.5", "jpy", "no decimal places"),
        ("-5", "usd", "Enter an amount"),
        ("abc", "usd", "Enter an amount"),
        ("", "usd", "Enter an amount"),
        ("1e5", "usd", "Enter an amount"),
    ],
)
def test_parse_amount_refuses_bad_input(text, currency, message):
    with pytest.raises(InvalidAmount, match=message):
        parse_amount(text, currency)


@given(amount=st.integers(min_value=0, max_value=10**14), currency=currencies)
def test_parse_reads_back_what_format_shows(amount, currency):
    shown = format_amount(amount, currency)
    digits = "".join(ch for ch in shown if ch.isdigit() or ch == ".")
    assert parse_amount(digits, currency) == amount


def test_exponents():
    assert currency_exponent("usd") == 2
    assert currency_exponent("JPY") == 0
    assert currency_exponent("bhd") == 3
