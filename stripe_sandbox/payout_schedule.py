"""Automatic payout schedules (``settings.payouts.schedule``) on the sandbox clock.

Stripe pays an account on an automatic schedule out of its available balance:
``daily``, ``weekly`` on ``weekly_anchor``, ``monthly`` on ``monthly_anchor``
(the last day of a shorter month for 29-31); ``manual`` never. The sandbox's
payout moment is midnight UTC of such a day, on its own clock, so moving the
clock (``/_sandbox/clock``) past midnight pays the accounts due that day.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

from .errors import invalid_request

INTERVALS = ("daily", "weekly", "monthly", "manual")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Stripe's lowest delay for US accounts; the sandbox refuses less (Stripe may raise it).
MINIMUM_DELAY_DAYS = 2
DAY = 86_400
# A clock moved further than this pays once, as for a single due day.
LONGEST_SCAN_DAYS = 400


def default_schedule(interval: str) -> dict[str, Any]:
    """The schedule of a new account when the platform sets none."""
    return complete({"interval": interval, "delay_days": MINIMUM_DELAY_DAYS})


def complete(schedule: dict[str, Any]) -> dict[str, Any]:
    """Stripe's shape: the anchor of a weekly or monthly schedule, and only then."""
    shaped = {"delay_days": schedule["delay_days"], "interval": schedule["interval"]}
    if schedule["interval"] == "weekly":
        shaped["weekly_anchor"] = schedule.get("weekly_anchor") or "monday"
    if schedule["interval"] == "monthly":
        shaped["monthly_anchor"] = schedule.get("monthly_anchor") or 1
    return shaped


def updated(current: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The schedule after an update's ``settings[payouts][schedule]``, checked."""
    param = "settings[payouts][schedule]"
    interval = params.get("interval") or current["interval"]
    if interval not in INTERVALS:
        raise invalid_request(
            f"Invalid interval: must be one of {', '.join(INTERVALS)}", param=f"{param}[interval]"
        )
    delay = params.get("delay_days", current["delay_days"])
    if delay == "minimum":
        delay = MINIMUM_DELAY_DAYS
    if not isinstance(delay, int) or delay < MINIMUM_DELAY_DAYS:
        raise invalid_request(
            f"The delay_days value cannot be less than the account's minimum of "
            f"{MINIMUM_DELAY_DAYS} days; pass `minimum` for the lowest permitted value.",
            param=f"{param}[delay_days]",
        )
    weekly = params.get("weekly_anchor") or current.get("weekly_anchor")
    if interval == "weekly" and weekly not in WEEKDAYS:
        raise invalid_request(
            "weekly_anchor is required when interval is weekly (a lower-case weekday).",
            param=f"{param}[weekly_anchor]",
        )
    monthly = params.get("monthly_anchor") or current.get("monthly_anchor")
    if interval == "monthly" and not (isinstance(monthly, int) and 1 <= monthly <= 31):
        raise invalid_request(
            "monthly_anchor is required when interval is monthly (a day from 1 to 31).",
            param=f"{param}[monthly_anchor]",
        )
    return complete(
        {
            "interval": interval,
            "delay_days": delay,
            "weekly_anchor": weekly,
            "monthly_anchor": monthly,
        }
    )


def _pays_on(schedule: dict[str, Any], day: datetime) -> bool:
    interval = schedule["interval"]
    if interval == "daily":
        return True
    if interval == "weekly":
        return WEEKDAYS[day.weekday()] == schedule.get("weekly_anchor", "monday")
    if interval == "monthly":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day == min(int(schedule.get("monthly_anchor", 1)), last)
    return False


def due_between(schedule: dict[str, Any], after: float, until: float) -> bool:
    """Whether a payout moment of ``schedule`` falls in ``(after, until]``."""
    if schedule["interval"] == "manual" or until <= after:
        return False
    first, last = int(after // DAY) + 1, int(until // DAY)
    if last - first > LONGEST_SCAN_DAYS:
        return True
    return any(
        _pays_on(schedule, datetime.fromtimestamp(day * DAY, tz=UTC))
        for day in range(first, last + 1)
    )
