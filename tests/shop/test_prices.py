"""Prices as sellers type them: major units, per currency, that the shop can sell."""

import pytest

from shop.prices import PriceError, currency_choices, price_parse


@pytest.fixture(autouse=True)
def _currencies(settings):
    settings.SHOP_CURRENCIES = ["usd", "eur", "gbp", "jpy", "kwd"]
    settings.PLATFORM_FEE_BPS = 1000
    settings.PLATFORM_FEE_FIXED = 30


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("45.00", "usd", 4500),
        ("45", "usd", 4500),
        ("45.5", "usd", 4550),
        (" 1,234.56 ", "usd", 123456),
        ("1,500", "usd", 150000),
        ("0.99", "eur", 99),
        ("1,500", "jpy", 1500),
        ("1500", "jpy", 1500),
        ("1,000,000", "jpy", 1000000),
        ("4.500", "kwd", 4500),
        ("4.51", "kwd", 4510),
        ("12", "kwd", 12000),
    ],
)
def test_major_units_become_minor_units_of_the_currency(text, currency, amount):
    assert price_parse(text, currency) == amount


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("45.001", "usd", "USD allows at most 2 decimal places."),
        ("15.5", "jpy", "JPY has no decimal places."),
        ("4.5001", "kwd", "KWD allows at most 3 decimal places."),
        # Stripe takes three-decimal amounts only with the last digit at zero.
        ("4.515", "kwd", "KWD prices must end in 0"),
    ],
)
def test_more_decimals_than_the_currency_allows_is_refused_clearly(text, currency, message):
    with pytest.raises(PriceError) as refused:
        price_parse(text, currency)

    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("text", "currency", "example"),
    [
        ("1,50", "usd", "45.00"),
        ("12,5", "eur", "45.00"),
        ("-5", "usd", "45.00"),
        ("4.5.0", "usd", "45.00"),
        ("$45", "usd", "45.00"),
        ("45 dollars", "usd", "45.00"),
        ("", "usd", "45.00"),
        ("1,5000", "jpy", "1,500"),
        ("1e3", "jpy", "1,500"),
        ("１２", "jpy", "1,500"),  # full-width digits
    ],
)
def test_anything_but_a_plain_price_is_refused_with_an_example(text, currency, example):
    with pytest.raises(PriceError) as refused:
        price_parse(text, currency)

    assert f"Enter a price such as {example}" in str(refused.value)


def test_zero_is_refused():
    with pytest.raises(PriceError, match="above zero"):
        price_parse("0.00", "usd")


def test_below_stripes_smallest_charge_is_refused():
    with pytest.raises(PriceError, match=r"The lowest price in USD is \$0.50"):
        price_parse("0.40", "usd")
    with pytest.raises(PriceError, match="The lowest price in JPY is ¥50"):
        price_parse("49", "jpy")


def test_above_the_largest_card_payment_is_refused():
    with pytest.raises(PriceError, match=r"The highest price is \$999,999.99"):
        price_parse("1,000,000", "usd")


def test_a_price_the_platform_fee_would_eat_is_refused_showing_the_fee(settings):
    settings.PLATFORM_FEE_FIXED = 100  # $1.00 fixed + 10 %

    with pytest.raises(PriceError) as refused:
        price_parse("1.00", "usd")

    assert str(refused.value) == (
        "The platform fee on $1.00 is $1.00, which would leave you nothing. Set a higher price."
    )
    assert price_parse("1.20", "usd") == 120  # fee 12 + 100 = $1.12: $0.08 left


def test_fee_refusal_in_a_currency_without_a_stripe_minimum_shows_its_own_units():
    # KWD: fee 10 % + 30 fils; at 0.030 KWD the fee is the whole price.
    with pytest.raises(PriceError, match="The platform fee on 0.030 KWD is 0.030 KWD"):
        price_parse("0.030", "kwd")


def test_only_the_shops_currencies_are_accepted(settings):
    settings.SHOP_CURRENCIES = ["usd"]

    with pytest.raises(PriceError, match="Prices in EUR are not supported here."):
        price_parse("10.00", "eur")


def test_currency_choices_come_from_settings_with_symbols(settings):
    settings.SHOP_CURRENCIES = ["usd", "jpy", "kwd"]

    assert currency_choices() == [("usd", "USD ($)"), ("jpy", "JPY (¥)"), ("kwd", "KWD")]
