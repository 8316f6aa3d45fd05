"""Stripe's automatic payouts, driven by the sandbox clock.

After every change (and on the ticker, ten times a second) the sandbox calls
:func:`run_due`: each connected account whose ``settings.payouts.schedule`` has
a payout moment (midnight UTC, see payout_schedule.py) since the last check is
paid its whole available balance, one payout per currency; then a pending payout is
sent to the bank (in transit) the day before its arrival date, and settled once that
has come (paid, or failed to a failing test bank account).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from . import payout_schedule
from .store import Obj

if TYPE_CHECKING:
    from .sandbox import Sandbox

# Sandbox clock time up to which payout moments were handled (kept with --db, so a
# demo restarted the next day pays what fell due while it was off).
CHECKED_KEY = "payouts_checked_at"
ON_ITS_WAY = ("pending", "in_transit")


def due(sandbox: Sandbox) -> bool:
    """Cheap test for the ticker: a payout moment or an arrival has come."""
    now = sandbox.clock.time()
    checked = sandbox.store.meta.get(CHECKED_KEY)
    if checked is None or int(checked // payout_schedule.DAY) < int(now // payout_schedule.DAY):
        return True
    return _next_arrival(sandbox) <= now


def _next_step(payout: Obj) -> float:
    """When a payout moves next: to the bank (pending), or arrives (in transit)."""
    if payout["status"] == "pending":
        return payout.get("_in_transit_at", payout.get("_arrives_at", 0))
    return payout.get("_arrives_at", 0)


def _next_arrival(sandbox: Sandbox) -> float:
    """The earliest next step of a payout on its way (inf: none). Scanned once, then
    kept as a lower bound (`note_arrival`), so a request does not scan every payout."""
    known = getattr(sandbox, "_next_payout_arrival", None)
    if known is None:
        known = min(
            (
                _next_step(payout)
                for payout in sandbox.store.iter_kind("payout")
                if payout["status"] in ON_ITS_WAY
            ),
            default=math.inf,
        )
        sandbox._next_payout_arrival = known  # type: ignore[attr-defined]
    return known


def note_arrival(sandbox: Sandbox, arrives_at: float) -> None:
    """A new pending payout arrives then."""
    sandbox._next_payout_arrival = min(_next_arrival(sandbox), arrives_at)  # type: ignore[attr-defined]


def run_due(sandbox: Sandbox) -> None:
    """Pay out the accounts due and settle the payouts that arrived (inside a mutation)."""
    now = sandbox.clock.time()
    checked = sandbox.store.meta.get(CHECKED_KEY)
    if checked is None:
        sandbox.store.set_meta(CHECKED_KEY, now)
    elif int(checked // payout_schedule.DAY) < int(now // payout_schedule.DAY):
        for account in sandbox.store.select("account", None):
            schedule = account["settings"]["payouts"]["schedule"]
            if _can_pay(account) and payout_schedule.due_between(schedule, checked, now):
                _pay_out(sandbox, account["id"])
        sandbox.store.set_meta(CHECKED_KEY, now)
    _settle_arrived(sandbox, now)


def _can_pay(account: Obj) -> bool:
    banks = account["external_accounts"]["data"]
    # An errored bank account gets no scheduled payouts until its details change (an
    # account without one gets the sandbox's test bank account, as API payouts do).
    return account["payouts_enabled"] and not (banks and banks[0]["status"] == "errored")


def _pay_out(sandbox: Sandbox, account_id: str) -> None:
    from .resources import payouts

    ctx = sandbox.ctx(account_id)
    for (owner, currency), (available, _pending) in sorted(
        sandbox.ledger.totals.items(), key=lambda item: (item[0][0] or "", item[0][1])
    ):
        if owner == account_id and available > 0:
            payouts.make_payout(ctx, available, currency, automatic=True)


def _settle_arrived(sandbox: Sandbox, now: float) -> None:
    from .resources import payouts

    if _next_arrival(sandbox) > now:
        return
    sandbox._next_payout_arrival = None  # type: ignore[attr-defined] # scanned again next
    moving = [
        payout
        for payout in sandbox.store.iter_kind("payout", newest_first=False)
        if payout["status"] in ON_ITS_WAY and _next_step(payout) <= now
    ]
    for payout in moving:
        if payout["status"] == "pending":
            payouts.send_to_bank(sandbox.ctx(payout["_account"]), payout)
    arrived = [payout for payout in moving if payout.get("_arrives_at", 0) <= now]
    for payout in arrived:
        ctx = sandbox.ctx(payout["_account"])
        failure = payouts.bank_failure(ctx, payout)
        payouts.settle(ctx, payout, fail=failure is not None, failure_code=failure or "")


def follow_default_interval(sandbox: Sandbox) -> None:
    """Accounts whose platform never set a schedule take ``payout_interval`` (on start
    and when the control endpoint changes it), and say so with ``account.updated``.

    Accounts stored before schedules were kept count as never set."""
    interval = sandbox.config.payout_interval
    for account in sandbox.store.select("account", None):
        schedule = account["settings"]["payouts"]["schedule"]
        if account.get("_schedule_default", True) and schedule["interval"] != interval:
            account["settings"]["payouts"]["schedule"] = payout_schedule.default_schedule(interval)
            account["_schedule_default"] = True
            sandbox.store.touch(account)
            previous = {"settings": {"payouts": {"schedule": schedule}}}
            sandbox.emit(sandbox.ctx(), "account.updated", account, previous, account=account["id"])
