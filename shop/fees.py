"""The platform's fee policy: basis points plus a fixed part, in minor units."""

from django.conf import settings


def platform_fee(amount: int, *, bps: int | None = None, fixed: int | None = None) -> int:
    """Fee the platform keeps from a charge of `amount` minor units.

    `amount * bps / 10_000` rounded half-up, plus `fixed`; never negative and
    never above `amount` (a tiny order cannot owe more than it pays).
    """
    if amount < 0:
        raise ValueError("amount must not be negative")
    bps = settings.PLATFORM_FEE_BPS if bps is None else bps
    fixed = settings.PLATFORM_FEE_FIXED if fixed is None else fixed
    if bps < 0 or fixed < 0:
        raise ValueError("fee settings must not be negative")
    proportional = (amount * bps + 5_000) // 10_000  # integer half-up rounding
    return min(amount, proportional + fixed)
