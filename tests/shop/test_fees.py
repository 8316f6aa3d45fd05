import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.fees import platform_fee

amounts = st.integers(min_value=0, max_value=10**12)
bps_values = st.integers(min_value=0, max_value=10_000)
fixed_values = st.integers(min_value=0, max_value=10_000)


@pytest.mark.parametrize(
    ("amount", "bps", "fixed", "fee"),
    [
        (10_000, 1000, 30, 1030),  # 10 % + 30
        (20, 250, 0, 1),  # 0.5 rounds half-up to 1
        (19, 250, 0, 0),  # 0.475 rounds down
        (60, 250, 0, 2),  # 1.5 rounds half-up to 2
        (10, 1000, 30, 10),  # never above the amount
        (0, 1000, 30, 0),
        (999, 0, 0, 0),
    ],
)
def test_examples(amount, bps, fixed, fee):
    assert platform_fee(amount, bps=bps, fixed=fixed) == fee


def test_defaults_come_from_settings(settings):
    settings.PLATFORM_FEE_BPS = 500
    settings.PLATFORM_FEE_FIXED = 7
    assert platform_fee(1000) == 57


@given(amount=amounts, bps=bps_values, fixed=fixed_values)
def test_fee_is_an_int_between_zero_and_the_amount(amount, bps, fixed):
    fee = platform_fee(amount, bps=bps, fixed=fixed)
    assert isinstance(fee, int)
    assert 0 <= fee <= amount


@given(amount=amounts, bps=bps_values, fixed=fixed_values)
def test_fee_is_exact_half_up_when_below_the_amount(amount, bps, fixed):
    fee = platform_fee(amount, bps=bps, fixed=fixed)
    exact_numerator = amount * bps  # exact fee is exact_numerator / 10_000 + fixed
    if fee < amount:
        proportional = fee - fixed
        # |proportional - exact| <= 0.5, and exactly .5 rounds up.
        assert 2 * abs(proportional * 10_000 - exact_numerator) <= 10_000
        assert proportional * 10_000 - exact_numerator != -5_000


@given(a=amounts, b=amounts, bps=bps_values, fixed=fixed_values)
def test_fee_never_decreases_as_the_amount_grows(a, b, bps, fixed):
    low, high = sorted((a, b))
    assert platform_fee(low, bps=bps, fixed=fixed) <= platform_fee(high, bps=bps, fixed=fixed)


@pytest.mark.parametrize("kwargs", [{"bps": -1}, {"fixed": -1}])
def test_negative_settings_are_refused(kwargs):
    with pytest.raises(ValueError, match="must not be negative"):
        platform_fee(100, **kwargs)


def test_negative_amount_is_refused():
    with pytest.raises(ValueError, match="amount"):
        platform_fee(-1)
