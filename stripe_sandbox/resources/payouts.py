"""Payouts from an account's available balance to its bank account.

A payout is ``pending`` (``payout.created``), ``in_transit`` from the day before its
``arrival_date`` on the sandbox clock (``payout.updated``), then ``paid``
(``payout.paid``) or, to one of Stripe's failing test bank account numbers,
``failed`` (``payout.failed``, money back in the balance). Automatic payouts follow
each account's schedule (stripe_sandbox/automatic_payouts.py); the API creates manual
ones, only for an account on a manual schedule. The control endpoint
``/_sandbox/payouts/run`` pays out an account's available balance and settles its
payouts on their way now.
"""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from .. import automatic_payouts, ids
from ..errors import invalid_request
from ..sandbox import Ctx
from ..store import Obj
from . import accounts
from .common import Endpoint, check_currency, fetch, list_where, save_update, update_fields

# A payout arrives at the start (midnight UTC) of the second day after it is made: an
# arrival date is a day, as on Stripe.
ARRIVAL_DAYS = 2
DAY = 24 * 3600


def arrival(now: float) -> int:
    return (int(now // DAY) + ARRIVAL_DAYS) * DAY


def _destination(ctx: Ctx) -> str:
    if ctx.account is None:
        return "ba_1SandboxPlatformBankAcct"
    account = ctx.store.get(ctx.account, "account")
    assert account is not None
    if not account["external_accounts"]["data"]:
        accounts.add_bank_account(account, None)
        ctx.store.touch(account)
    return account["external_accounts"]["data"][0]["id"]


def _paid_out(ctx: Ctx, currency: str, payout_id: str) -> list[str]:
    """The available transactions an automatic payout takes (listed by
    ``GET /v1/balance_transactions?payout=``), marked so the next one skips them."""
    taken = []
    for txn in ctx.store.select(
        "balance_transaction",
        ctx.account,
        lambda t: t["currency"] == currency and t["status"] == "available" and not t.get("_payout"),
    ):
        txn["_payout"] = payout_id
        ctx.store.touch(txn)
        taken.append(txn["id"])
    return taken


def make_payout(
    ctx: Ctx,
    amount: int,
    currency: str,
    *,
    automatic: bool = False,
    description: str | None = None,
    metadata: dict | None = None,
    method: str = "standard",
) -> Obj:
    payout_id = ids.new_id("po")
    paid_transactions = _paid_out(ctx, currency, payout_id) if automatic else []
    txn = ctx.ledger.record(
        ctx.account,
        "payout",
        -amount,
        currency,
        payout_id,
        description=description or "STRIPE PAYOUT",
    )
    payout: Obj = {
        "id": payout_id,
        "object": "payout",
        "amount": amount,
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": arrival(ctx.sandbox.clock.time()),
        "automatic": automatic,
        "balance_transaction": txn["id"],
        "created": ctx.now(),
        "currency": currency,
        "description": description or "STRIPE PAYOUT",
        "destination": _destination(ctx),
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "method": method,
        "original_payout": None,
        "reconciliation_status": "not_applicable",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": None,
        "status": "pending",
        "trace_id": {"status": "pending", "value": None},
        "type": "bank_account",
        "_arrives_at": arrival(ctx.sandbox.clock.time()),
        # Sent to the bank the day before it arrives (in_transit, payout.updated).
        "_in_transit_at": max(ctx.now(), arrival(ctx.sandbox.clock.time()) - DAY),
    }
    txn["_payout"] = payout_id
    if automatic:
        payout["_paid_transactions"] = [*paid_transactions, txn["id"]]
    ctx.store.add(payout, ctx.account)
    automatic_payouts.note_arrival(ctx.sandbox, payout["_in_transit_at"])
    ctx.emit("payout.created", payout)
    return payout


def create(ctx: Ctx, params: dict[str, Any]) -> Obj:
    currency = check_currency(params["currency"])
    amount = params["amount"]
    if amount < 1:
        raise invalid_request("Invalid positive integer", param="amount")
    if ctx.account is not None:
        account = ctx.store.get(ctx.account, "account")
        if account is None or not account["payouts_enabled"]:
            raise invalid_request(
                "Payouts are not enabled for this account.", code="payouts_not_allowed"
            )
        interval = account["settings"]["payouts"]["schedule"]["interval"]
        if interval != "manual":
            # Stripe documents manual payouts for accounts on a manual schedule; an
            # automatic one pays the balance out by itself.
            raise invalid_request(
                f"This account's payouts are automatic ({interval}): set "
                "settings[payouts][schedule][interval] to manual to create payouts.",
                code="payouts_not_allowed",
            )
    available = ctx.ledger.available(ctx.account, currency)
    if amount > available:
        raise invalid_request(
            "You have insufficient funds in your Stripe account for this transfer. Your card "
            "balance is too low. You can use the /v1/balance endpoint to view your Stripe "
            "balance (for more details, see stripe.com/docs/api#balance).",
            code="balance_insufficient",
        )
    return make_payout(
        ctx,
        amount,
        currency,
        description=params.get("description"),
        metadata=params.get("metadata"),
        method=params.get("method", "standard"),
    )


# What the contractor's bank said, in Stripe's failure codes (the sandbox's wording).
FAILURE_MESSAGES = {
    "account_closed": "The bank account has been closed.",
    "no_account": "No bank account could be found with the details on file.",
    "insufficient_funds": "The account has insufficient funds to cover the payout.",
    "debit_not_authorized": "Debits are not authorised on this bank account.",
    "invalid_currency": "The bank account cannot accept payouts in this currency.",
}


def send_to_bank(ctx: Ctx, payout: Obj) -> None:
    """A pending payout is on its way to the bank (``in_transit``)."""
    previous = {"status": payout["status"]}
    payout["status"] = "in_transit"
    ctx.store.touch(payout)
    ctx.emit("payout.updated", payout, previous)


def settle(ctx: Ctx, payout: Obj, *, fail: bool, failure_code: str = "account_closed") -> None:
    """Mark a pending or in-transit payout paid, or failed with its money back in the
    balance.

    A failed payout puts its bank account in ``errored`` (as Stripe does): no
    automatic payout goes there until the account has new bank details.
    """
    previous = {"status": payout["status"]}
    if fail:
        txn = ctx.ledger.record(
            ctx.account,
            "payout_failure",
            payout["amount"],
            payout["currency"],
            payout["id"],
            available_at=ctx.sandbox.clock.time(),
        )
        payout.update(
            status="failed",
            failure_code=failure_code,
            failure_message=FAILURE_MESSAGES.get(failure_code, "The payout failed."),
            failure_balance_transaction=txn["id"],
        )
        bank = _bank(ctx, payout["destination"])
        if bank is not None:
            bank["status"] = "errored"
            ctx.store.touch(ctx.store.get(bank["account"]) or payout)
        ctx.store.touch(payout)
        ctx.emit("payout.failed", payout, previous)
        return
    # Paid ahead of its date (``/_sandbox/payouts/run``): it arrived now.
    arrived = min(payout["arrival_date"], ctx.now())
    payout.update(status="paid", arrival_date=arrived, reconciliation_status="completed")
    payout["trace_id"] = {"status": "supported", "value": ids.secret_token(12).upper()}
    ctx.store.touch(payout)
    ctx.emit("payout.paid", payout, previous)


def _bank(ctx: Ctx, bank_id: str) -> Obj | None:
    account = ctx.store.get(ctx.account, "account") if ctx.account else None
    banks = (account or {}).get("external_accounts", {}).get("data", [])
    return next((bank for bank in banks if bank["id"] == bank_id), None)


def bank_failure(ctx: Ctx, payout: Obj) -> str | None:
    """The failure code the payout's test bank account number stands for, if any."""
    bank = _bank(ctx, payout["destination"])
    return (bank or {}).get("_payout_failure")


def run(ctx: Ctx, *, fail: bool = False, failure_code: str | None = None) -> list[Obj]:
    """Pay out everything available in the scope's balance and settle pending payouts.

    A payout fails when asked to (``fail``) or when its bank account is one of
    Stripe's failing test numbers.
    """
    for (account, currency), (available, _pending) in list(ctx.ledger.totals.items()):
        if account == ctx.account and available > 0:
            make_payout(ctx, available, currency, automatic=True)
    pending = ctx.store.select(
        "payout", ctx.account, lambda p: p["status"] in ("pending", "in_transit")
    )
    for payout in pending:
        code = failure_code or bank_failure(ctx, payout) or "account_closed"
        settle(ctx, payout, fail=fail or bank_failure(ctx, payout) is not None, failure_code=code)
    return pending


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return fetch(ctx, "payout", id)


def update(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    payout = fetch(ctx, "payout", id)
    previous = update_fields(payout, params, ())
    return save_update(ctx, payout, previous, "payout.updated")


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    return list_where(ctx, "payout", "/v1/payouts", params, ("status",))


ROUTES = [
    Endpoint("POST", "/v1/payouts", create, sp.PayoutCreateParams),
    Endpoint("GET", "/v1/payouts", list_all, sp.PayoutListParams),
    Endpoint("GET", "/v1/payouts/{id}", retrieve, sp.PayoutRetrieveParams),
    Endpoint("POST", "/v1/payouts/{id}", update, sp.PayoutUpdateParams),
]
