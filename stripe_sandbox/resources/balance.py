"""Balance and balance transactions (per account via ``Stripe-Account``)."""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from ..lists import list_object
from ..sandbox import Ctx
from ..store import Obj
from .common import Endpoint, fetch


def retrieve(ctx: Ctx, params: dict[str, Any]) -> Obj:
    return ctx.ledger.balance(ctx.account, ctx.sandbox.default_currency(ctx.account))


def retrieve_transaction(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return fetch(ctx, "balance_transaction", id)


def list_transactions(ctx: Ctx, params: dict[str, Any]) -> Obj:
    filters = {key: params[key] for key in ("type", "source", "currency") if key in params}
    payout = params.get("payout")
    payout_txns: set[str] | None = None
    if payout:
        payout_obj = ctx.store.get(payout, "payout")
        payout_txns = set((payout_obj or {}).get("_paid_transactions", []))
    items = ctx.store.select(
        "balance_transaction",
        ctx.account,
        lambda t: (
            all(t.get(key) == value for key, value in filters.items())
            and (payout_txns is None or t["id"] in payout_txns)
        ),
    )
    return list_object("/v1/balance_transactions", items, params)


ROUTES = [
    Endpoint("GET", "/v1/balance", retrieve, sp.BalanceRetrieveParams),
    Endpoint("GET", "/v1/balance_transactions", list_transactions, sp.BalanceTransactionListParams),
    Endpoint(
        "GET",
        "/v1/balance_transactions/{id}",
        retrieve_transaction,
        sp.BalanceTransactionRetrieveParams,
    ),
]
