"""Payouts from an account's available balance to its bank account.

A payout created through the API is ``pending``; the control endpoint
``/_sandbox/payouts/run`` pays out an account's available balance and settles
its pending payouts as ``paid`` (``payout.paid``) or ``failed``
(``payout.failed``, money returned to the balance).
"""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from .. import ids
from ..errors import invalid_request
from ..sandbox import Ctx
from ..store import Obj
from . import accounts
from .common import Endpoint, check_currency, fetch, list_where, save_update, update_fields

ARRIVAL_DELAY = 2 * 24 * 3600


def _destination(ctx: Ctx) -> str:
    if ctx.account is None:
        return "ba_1SandboxPlatformBankAcct"
    account = ctx.store.get(ctx.account, "account")
    assert account is not None
    if not account["external_accounts"]["data"]:
        accounts.add_bank_account(account, None)
        ctx.store.touch(account)
    return account["external_accounts"]["data"][0]["id"]


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
        "arrival_date": ctx.now() + ARRIVAL_DELAY,
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
    }
    ctx.store.add(payout, ctx.account)
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


def settle(ctx: Ctx, payout: Obj, *, fail: bool, failure_code: str = "account_closed") -> None:
    """Mark a pending payout paid, or failed with its money back in the balance."""
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
            failure_message="The bank account has been closed.",
            failure_balance_transaction=txn["id"],
        )
        ctx.store.touch(payout)
        ctx.emit("payout.failed", payout, previous)
        return
    payout.update(status="paid", arrival_date=ctx.now(), reconciliation_status="completed")
    payout["trace_id"] = {"status": "supported", "value": ids.secret_token(12).upper()}
    ctx.store.touch(payout)
    ctx.emit("payout.paid", payout, previous)


def run(ctx: Ctx, *, fail: bool = False, failure_code: str = "account_closed") -> list[Obj]:
    """Pay out everything available in the scope's balance and settle pending payouts."""
    payouts = []
    for (account, currency), (available, _pending) in list(ctx.ledger.totals.items()):
        if account == ctx.account and available > 0:
            payouts.append(make_payout(ctx, available, currency, automatic=True))
    pending = ctx.store.select("payout", ctx.account, lambda p: p["status"] == "pending")
    for payout in pending:
        settle(ctx, payout, fail=fail, failure_code=failure_code)
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
