"""Application fees collected on destination charges, and fee refunds."""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from .. import ids
from ..errors import invalid_request
from ..money import format_amount
from ..sandbox import APPLICATION_ID, Ctx
from ..store import Obj
from .common import Children, Endpoint, fetch, list_where

REFUNDS = Children(
    parent_kind="application_fee",
    kind="fee_refund",
    link="fee",
    field="refunds",
    path="/v1/application_fees/{id}/refunds",
    total="amount_refunded",
    flag="refunded",
)


def collect(ctx: Ctx, charge: Obj, account: str, amount: int, available_at: float | None) -> Obj:
    """Record the platform's fee on ``charge``; emits ``application_fee.created``."""
    fee_id = ids.new_id("fee")
    txn = ctx.ledger.record(
        None, "application_fee", amount, charge["currency"], fee_id, available_at=available_at
    )
    fee: Obj = {
        "id": fee_id,
        "object": "application_fee",
        "account": account,
        "amount": amount,
        "amount_refunded": 0,
        "application": APPLICATION_ID,
        "balance_transaction": txn["id"],
        "charge": charge["id"],
        "created": ctx.now(),
        "currency": charge["currency"],
        "fee_source": {"charge": charge["id"], "type": "charge"},
        "livemode": False,
        "originating_transaction": None,
        "refunded": False,
        "refunds": REFUNDS.empty(fee_id),
    }
    ctx.store.add(fee, None)
    ctx.emit("application_fee.created", fee)
    return fee


def refund_fee(ctx: Ctx, fee: Obj, amount: int, metadata: dict | None = None) -> Obj:
    """Give ``amount`` of the fee back to the connected account."""
    remaining = REFUNDS.remaining(fee)
    if amount > remaining:
        raise invalid_request(
            f"Refund amount ({format_amount(amount, fee['currency'])}) is greater than "
            f"unrefunded amount on fee ({format_amount(remaining, fee['currency'])})",
            param="amount",
        )
    refund_id = ids.new_id("fr")
    now = ctx.sandbox.clock.time()
    txn = ctx.ledger.record(None, "application_fee_refund", -amount, fee["currency"], refund_id)
    ctx.ledger.record(
        fee["account"],
        "application_fee_refund",
        amount,
        fee["currency"],
        refund_id,
        available_at=now,
    )
    refund: Obj = {
        "id": refund_id,
        "object": "fee_refund",
        "amount": amount,
        "balance_transaction": txn["id"],
        "created": ctx.now(),
        "currency": fee["currency"],
        "fee": fee["id"],
        "metadata": dict(metadata or {}),
    }
    previous = REFUNDS.attach(ctx, fee, refund)
    ctx.emit("application_fee.refunded", fee, previous)
    return refund


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return fetch(ctx, "application_fee", id)


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    return list_where(ctx, "application_fee", "/v1/application_fees", params, ("charge",))


def create_refund(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    fee = fetch(ctx, "application_fee", id)
    amount = params.get("amount", REFUNDS.remaining(fee))
    if amount < 1:
        raise invalid_request(
            f"Application fee {id} has already been refunded.",
            code="charge_already_refunded" if fee["refunded"] else None,
            param="amount",
        )
    return refund_fee(ctx, fee, amount, params.get("metadata"))


def list_refunds(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return REFUNDS.list_page(ctx, params, id)


def retrieve_refund(ctx: Ctx, params: dict[str, Any], id: str, refund: str) -> Obj:
    return REFUNDS.retrieve(ctx, id, refund)


ROUTES = [
    Endpoint("GET", "/v1/application_fees", list_all, sp.ApplicationFeeListParams),
    Endpoint("GET", "/v1/application_fees/{id}", retrieve, sp.ApplicationFeeRetrieveParams),
    Endpoint(
        "POST",
        "/v1/application_fees/{id}/refunds",
        create_refund,
        sp.ApplicationFeeCreateRefundParams,
    ),
    Endpoint(
        "GET", "/v1/application_fees/{id}/refunds", list_refunds, sp.ApplicationFeeListRefundsParams
    ),
    Endpoint(
        "GET",
        "/v1/application_fees/{id}/refunds/{refund}",
        retrieve_refund,
        sp.ApplicationFeeRetrieveRefundParams,
    ),
]
