"""What the contractor's dashboard says about payouts: the schedule in words, when the
next payout comes and how much it should be, and for a failed payout why and what to
do. Read-only, from our copies (no Stripe call): see payments/services/payouts.py.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from payments.models import BalanceSnapshot, Payout, PayoutSchedule

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Stripe's payout failure codes: why it failed, and what the contractor can do. Where
# the fix is new bank details, the page links to Stripe's hosted form.
FAILURES: dict[str, tuple[str, str]] = {
    "account_closed": ("Your bank account has been closed.", "Add a new bank account."),
    "account_frozen": ("Your bank account is frozen.", "Ask your bank, or add another account."),
    "bank_account_restricted": (
        "Your bank account does not accept this kind of payment.",
        "Ask your bank, or add another account.",
    ),
    "bank_ownership_changed": (
        "Your bank account changed hands.",
        "Enter your bank details again.",
    ),
    "could_not_process": (
        "Your bank could not process the payout.",
        "Check your bank details; Stripe pays out again once they are fixed.",
    ),
    "debit_not_authorized": (
        "Your bank account does not allow the electronic transfers Stripe makes.",
        "Ask your bank to allow them, or add another account.",
    ),
    "declined": ("Your bank declined the payout.", "Ask your bank, or add another account."),
    "incorrect_account_holder_name": (
        "The account holder's name does not match your bank's records.",
        "Correct the name on your bank details.",
    ),
    "insufficient_funds": (
        "Your Stripe balance was too low to cover the payout.",
        "Nothing to do: your next payout includes this money.",
    ),
    "invalid_account_number": (
        "The bank account number is not valid.",
        "Correct your bank details.",
    ),
    "invalid_currency": (
        "Your bank account cannot receive this currency.",
        "Add a bank account in this currency.",
    ),
    "no_account": (
        "Your bank found no account with these details.",
        "Check the account and routing numbers of your bank details.",
    ),
    "unsupported_card": (
        "Your debit card cannot receive payouts.",
        "Add a bank account or another debit card.",
    ),
}
UNKNOWN_FAILURE = (
    "Your bank returned the payout.",
    "Check your bank details; contact us if it happens again.",
)
# Failures that need new bank details (the others need the bank or nothing).
BANK_DETAILS_FIXES = frozenset(FAILURES) - {"insufficient_funds"}


@dataclass(frozen=True)
class NextPayout:
    currency: str
    amount: int
    expected: datetime  # Stripe's payout day (midnight UTC)


@dataclass(frozen=True)
class Payable:
    currency: str
    amount: int  # available, less what "Pay out now" asked for and Stripe has not taken


@dataclass(frozen=True)
class PayoutOutlook:
    schedule: PayoutSchedule | None
    description: str
    manual: bool
    next_payouts: list[NextPayout] = field(default_factory=list)
    payable: list[Payable] = field(default_factory=list)  # manual: pay out now


@dataclass(frozen=True)
class FailureExplanation:
    why: str
    what_to_do: str
    needs_bank_details: bool


def describe(schedule: PayoutSchedule | None) -> str:
    """The schedule in words: "Daily, 2 days after each payment", "Weekly on Fridays"…"""
    if schedule is None:
        return "Not known yet: refresh to read it from Stripe."
    if schedule.interval == PayoutSchedule.Interval.MANUAL:
        return "Manual: your balance stays with Stripe until you pay it out."
    if schedule.interval == PayoutSchedule.Interval.WEEKLY:
        text = f"Weekly, on {(schedule.weekly_anchor or 'monday').capitalize()}s"
    elif schedule.interval == PayoutSchedule.Interval.MONTHLY:
        text = f"Monthly, on day {schedule.monthly_anchor or 1}"
    else:
        text = "Daily"
    if schedule.delay_days:
        text += f"; money is paid out {schedule.delay_days} days after each payment"
    return text


def _pays_on(schedule: PayoutSchedule, day: datetime) -> bool:
    if schedule.interval == PayoutSchedule.Interval.DAILY:
        return True
    if schedule.interval == PayoutSchedule.Interval.WEEKLY:
        return WEEKDAYS[day.weekday()] == (schedule.weekly_anchor or "monday")
    # Monthly: days 29-31 fall on the last day of a shorter month, as Stripe does.
    next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = (next_month - timedelta(days=1)).day
    return day.day == min(schedule.monthly_anchor or 1, last)


def next_payout_day(schedule: PayoutSchedule, now: datetime) -> datetime | None:
    """The next day Stripe pays an automatic schedule out (from midnight UTC); None for
    a manual schedule."""
    if schedule.interval == PayoutSchedule.Interval.MANUAL:
        return None
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    for offset in range(1, 33):
        day = today + timedelta(days=offset)
        if _pays_on(schedule, day):
            return day
    return None


def next_payouts(
    schedule: PayoutSchedule, balances: list[BalanceSnapshot], now: datetime
) -> list[NextPayout]:
    """Per currency: what is available now, plus what becomes available by the next
    payout day (the pending money by its `available_on`)."""
    day = next_payout_day(schedule, now)
    if day is None:
        return []
    by_currency = {b.currency: b.available_amount for b in balances}
    cutoff = day.timestamp()
    for fund in schedule.pending_funds or []:
        if fund.get("available_on", cutoff + 1) <= cutoff:
            currency = fund["currency"]
            by_currency[currency] = by_currency.get(currency, 0) + int(fund["amount"])
    return [
        NextPayout(currency=currency, amount=amount, expected=day)
        for currency, amount in sorted(by_currency.items())
        if amount > 0
    ]


def outlook(
    schedule: PayoutSchedule | None,
    balances: list[BalanceSnapshot],
    now: datetime,
    spendable: dict[str, int] | None = None,
) -> PayoutOutlook:
    """`spendable`: per currency, what "Pay out now" may still take (default: the
    available balance)."""
    manual = schedule is not None and schedule.interval == PayoutSchedule.Interval.MANUAL
    amounts = spendable if spendable is not None else {}
    payable = [Payable(b.currency, amounts.get(b.currency, b.available_amount)) for b in balances]
    return PayoutOutlook(
        schedule=schedule,
        description=describe(schedule),
        manual=manual,
        next_payouts=next_payouts(schedule, balances, now) if schedule else [],
        payable=[p for p in payable if p.amount > 0] if manual else [],
    )


def explain_failure(payout: Payout) -> FailureExplanation | None:
    """Why a failed payout failed and what to do; None for any other payout."""
    if payout.status != "failed":
        return None
    why, what = FAILURES.get(payout.failure_code, UNKNOWN_FAILURE)
    if payout.failure_code not in FAILURES and payout.failure_message:
        # A code we do not know: Stripe's own words, as a sentence.
        why = payout.failure_message.rstrip(".") + "."
    return FailureExplanation(
        why=why,
        what_to_do=f"{what} The money is back in your balance.",
        needs_bank_details=payout.failure_code in BANK_DETAILS_FIXES or not payout.failure_code,
    )
