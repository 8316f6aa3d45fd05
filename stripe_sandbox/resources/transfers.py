"""Transfers to connected accounts and their reversals.

A transfer debits the platform (``transfer`` balance transaction) and credits
the destination through a destination payment ``py_…`` (a Charge object on the
connected account, ``payment`` balance transaction). A reversal does the
opposite (``transfer_refund`` on the platform, ``payment_refund`` on the
connected account). Funds of a transfer tied to a charge (destination charges,
``source_transaction``) become available when the charge's funds do; a plain
transfer from the available balance is available at once.

Separate charges and transfers (``source_transaction``, ``transfer_group``), as
Stripe documents them: the transfer succeeds whatever the platform's available
balance, its money pending on both sides until the charge's is available; the
transfers from one charge may not add up to more than it (and, stricter than
Stripe says, not to more than what refunds and earlier transfers left of it); the
transfer belongs to the charge's transfer group. Such a transfer can be reversed
only when the destination's available balance covers the reversal ("enough
balance", which the sandbox reads strictly); a destination charge's transfer can be
reversed up to the charge, whatever the balance.
"""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from .. import ids
from ..errors import invalid_request
from ..money import format_amount
from ..sandbox import APPLICATION_ID, Ctx
from ..store import Obj
from .common import (
    Children,
    Endpoint,
    check_currency,
    fetch,
    fetch_param,
    list_where,
    save_update,
    update_fields,
)

REVERSALS = Children(
    parent_kind="transfer",
    kind="transfer_reversal",
    link="transfer",
    field="reversals",
    path="/v1/transfers/{id}/reversals",
    total="amount_reversed",
    flag="reversed",
)


def connected_account(ctx: Ctx, account_id: str, param: str) -> Obj:
    account = ctx.store.get(account_id, "account")
    if account is None or account.get("_account") is not None:
        raise invalid_request(
            f"No such destination: '{account_id}'", param=param, code="resource_missing"
        )
    return account


def require_transfers_capability(account: Obj, param: str) -> None:
    if (account.get("capabilities") or {}).get("transfers") != "active":
        raise invalid_request(
            "Your destination account needs to have at least one of the following "
            "capabilities enabled: transfers, crypto_transfers, legacy_payments",
            param=param,
            code="insufficient_capabilities_for_transfer",
        )


def make_transfer(
    ctx: Ctx,
    destination: str,
    amount: int,
    currency: str,
    *,
    source_transaction: Obj | None = None,
    available_at: float | None = None,
    application_fee: int = 0,
    transfer_group: str | None = None,
    description: str | None = None,
    metadata: dict | None = None,
) -> Obj:
    """Move ``amount`` from the platform to ``destination``; emits ``transfer.created``.

    ``application_fee`` is shown as the fee of the destination payment's balance
    transaction, so the connected balance grows by ``amount - application_fee``.
    """
    ledger = ctx.ledger
    transfer_id = ids.new_id("tr")
    payment_id = ids.new_id("py")
    platform_txn = ledger.record(
        None, "transfer", -amount, currency, transfer_id, available_at=available_at
    )
    fee_details = []
    if application_fee:
        fee_details.append(
            {
                "amount": application_fee,
                "application": APPLICATION_ID,
                "currency": currency,
                "description": None,
                "type": "application_fee",
            }
        )
    payment_txn = ledger.record(
        destination,
        "payment",
        amount,
        currency,
        payment_id,
        fee=application_fee,
        fee_details=fee_details,
        available_at=available_at if available_at is not None else ctx.sandbox.clock.time(),
    )
    ctx.store.add(
        _destination_payment(ctx, payment_id, transfer_id, amount, currency, payment_txn["id"]),
        destination,
    )
    transfer: Obj = {
        "id": transfer_id,
        "object": "transfer",
        "amount": amount,
        "amount_reversed": 0,
        "balance_transaction": platform_txn["id"],
        "created": ctx.now(),
        "currency": currency,
        "description": description,
        "destination": destination,
        "destination_payment": payment_id,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "reversals": REVERSALS.empty(transfer_id),
        "reversed": False,
        "source_transaction": source_transaction["id"] if source_transaction else None,
        "source_type": "card",
        "transfer_group": transfer_group,
        "_fee_refunded_by_reversals": 0,
    }
    ctx.store.add(transfer, None)
    ctx.emit("transfer.created", transfer)
    return transfer


def _destination_payment(
    ctx: Ctx, payment_id: str, transfer_id: str, amount: int, currency: str, txn_id: str
) -> Obj:
    return {
        "id": payment_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "application": APPLICATION_ID,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": txn_id,
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "captured": True,
        "created": ctx.now(),
        "currency": currency,
        "customer": None,
        "description": None,
        "disputed": False,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": None,
        "payment_method": None,
        "refunded": False,
        "source_transfer": transfer_id,
        "status": "succeeded",
    }


def reverse(
    ctx: Ctx,
    transfer: Obj,
    amount: int,
    *,
    source_refund: str | None = None,
    description: str | None = None,
    metadata: dict | None = None,
) -> Obj:
    """Take ``amount`` back from the destination; emits ``transfer.reversed``."""
    remaining = REVERSALS.remaining(transfer)
    if amount > remaining:
        raise invalid_request(
            f"You cannot reverse {format_amount(amount, transfer['currency'])} from this "
            f"transfer: only {format_amount(remaining, transfer['currency'])} remains.",
            param="amount",
        )
    currency, destination = transfer["currency"], transfer["destination"]
    reversal_id = ids.new_id("trr")
    platform_txn = ctx.ledger.record(
        None,
        "transfer_refund",
        amount,
        currency,
        reversal_id,
        available_at=ctx.sandbox.clock.time(),
    )
    refund_id = ids.new_id("pyr")
    connected_txn = ctx.ledger.record(destination, "payment_refund", -amount, currency, refund_id)
    payment = ctx.store.get(transfer["destination_payment"])
    if payment is not None:
        payment["amount_refunded"] += amount
        payment["refunded"] = payment["amount_refunded"] >= payment["amount"]
        ctx.store.touch(payment)
    ctx.store.add(
        {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": connected_txn["id"],
            "charge": transfer["destination_payment"],
            "created": ctx.now(),
            "currency": currency,
            "metadata": {},
            "payment_intent": None,
            "reason": None,
            "status": "succeeded",
        },
        destination,
    )
    reversal: Obj = {
        "id": reversal_id,
        "object": "transfer_reversal",
        "amount": amount,
        "balance_transaction": platform_txn["id"],
        "created": ctx.now(),
        "currency": currency,
        "description": description,
        "destination_payment_refund": refund_id,
        "metadata": dict(metadata or {}),
        "source_refund": source_refund,
        "transfer": transfer["id"],
    }
    previous = REVERSALS.attach(ctx, transfer, reversal)
    ctx.emit("transfer.reversed", transfer, previous)
    return reversal


# --- endpoints ------------------------------------------------------------------


def create(ctx: Ctx, params: dict[str, Any]) -> Obj:
    if ctx.account is not None:
        raise invalid_request(
            "Transfers are created by the platform; remove the Stripe-Account header."
        )
    if "amount" not in params:
        raise invalid_request(
            "Missing required param: amount.", param="amount", code="parameter_missing"
        )
    amount, currency = params["amount"], check_currency(params["currency"])
    if amount < 1:
        raise invalid_request("Invalid positive integer", param="amount")
    destination = connected_account(ctx, params["destination"], "destination")
    require_transfers_capability(destination, "destination")
    source = None
    available_at = None
    if params.get("source_transaction"):
        source = fetch_param(ctx, "charge", params["source_transaction"], "source_transaction")
        if source["status"] != "succeeded" or not source["captured"]:
            raise invalid_request(
                "The source_transaction charge must be captured and succeeded.",
                param="source_transaction",
            )
        if source["currency"] != currency:
            raise invalid_request(
                f"The currency of source_transaction's balance transaction "
                f"({source['currency']}) must be the same as the transfer currency ({currency})",
                param="currency",
            )
        remaining = source_remaining(ctx, source)
        if amount > remaining:
            raise invalid_request(
                f"Transfer amount ({format_amount(amount, currency)}) exceeds the amount "
                f"remaining on source_transaction ({format_amount(remaining, currency)}).",
                param="amount",
            )
        group = params.get("transfer_group")
        if group and source.get("transfer_group") and group != source["transfer_group"]:
            raise invalid_request(
                f"The transfer_group ({group}) must be the source_transaction's "
                f"({source['transfer_group']}).",
                param="transfer_group",
            )
        params["transfer_group"] = group or source.get("transfer_group")
        txn = ctx.store.get(source["balance_transaction"] or "")
        available_at = txn["_available_at"] if txn else None
    elif ctx.ledger.available(None, currency) < amount:
        raise invalid_request(
            "You have insufficient available funds in your Stripe account. Try adding funds "
            "directly to your available balance by creating Charges using the "
            "4000000000000077 test card.",
            code="balance_insufficient",
        )
    return make_transfer(
        ctx,
        destination["id"],
        amount,
        currency,
        source_transaction=source,
        available_at=available_at,
        transfer_group=params.get("transfer_group"),
        description=params.get("description"),
        metadata=params.get("metadata"),
    )


def source_remaining(ctx: Ctx, charge: Obj) -> int:
    """What a charge can still fund as ``source_transaction``: Stripe's rule, the
    transfers from it may not add up to more than it captured; and the sandbox's
    stricter one, not more than refunds and the transfers' unreversed amounts left."""
    made = ctx.store.select("transfer", None, lambda t: t["source_transaction"] == charge["id"])
    gross = sum(t["amount"] for t in made)
    net = sum(t["amount"] - t["amount_reversed"] for t in made)
    captured = charge["amount_captured"]
    return max(0, min(captured - gross, captured - charge["_refunded_total"] - net))


def _made_for_destination_charge(ctx: Ctx, transfer: Obj) -> bool:
    charge = ctx.store.get(transfer["source_transaction"] or "", "charge")
    return charge is not None and charge.get("transfer") == transfer["id"]


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return fetch(ctx, "transfer", id)


def update(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    transfer = fetch(ctx, "transfer", id)
    previous = update_fields(transfer, params, ("description",))
    return save_update(ctx, transfer, previous, "transfer.updated")


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    return list_where(ctx, "transfer", "/v1/transfers", params, ("destination", "transfer_group"))


def create_reversal(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    from . import application_fees

    transfer = fetch(ctx, "transfer", id)
    amount = params.get("amount", REVERSALS.remaining(transfer))
    if amount < 1:
        raise invalid_request(
            "This transfer has already been fully reversed."
            if transfer["reversed"]
            else "Invalid positive integer",
            param="amount",
        )
    if amount > REVERSALS.remaining(transfer):
        reverse(ctx, transfer, amount)  # refuses it, in Stripe's words
    destination = transfer["destination"]
    held = ctx.ledger.available(destination, transfer["currency"])
    if not _made_for_destination_charge(ctx, transfer) and held < amount:
        raise invalid_request(
            f"The destination account's available balance "
            f"({format_amount(held, transfer['currency'])}) cannot cover reversing "
            f"{format_amount(amount, transfer['currency'])} of this transfer.",
            param="amount",
            code="balance_insufficient",
        )
    reversal = reverse(
        ctx,
        transfer,
        amount,
        description=params.get("description"),
        metadata=params.get("metadata"),
    )
    if params.get("refund_application_fee") and transfer["source_transaction"]:
        charge = ctx.store.get(transfer["source_transaction"])
        fee = ctx.store.get((charge or {}).get("application_fee") or "")
        if fee is not None:
            share = application_fees.REFUNDS.share(
                fee,
                transfer["amount_reversed"],
                transfer["amount"],
                transfer["_fee_refunded_by_reversals"],
            )
            if share:
                transfer["_fee_refunded_by_reversals"] += share
                application_fees.refund_fee(ctx, fee, share)
    return reversal


def list_reversals(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return REVERSALS.list_page(ctx, params, id)


def retrieve_reversal(ctx: Ctx, params: dict[str, Any], id: str, reversal: str) -> Obj:
    return REVERSALS.retrieve(ctx, id, reversal)


ROUTES = [
    Endpoint("POST", "/v1/transfers", create, sp.TransferCreateParams),
    Endpoint("GET", "/v1/transfers", list_all, sp.TransferListParams),
    Endpoint("GET", "/v1/transfers/{id}", retrieve, sp.TransferRetrieveParams),
    Endpoint("POST", "/v1/transfers/{id}", update, sp.TransferUpdateParams),
    Endpoint(
        "POST", "/v1/transfers/{id}/reversals", create_reversal, sp.TransferCreateReversalParams
    ),
    Endpoint("GET", "/v1/transfers/{id}/reversals", list_reversals, sp.TransferListReversalsParams),
    Endpoint(
        "GET",
        "/v1/transfers/{id}/reversals/{reversal}",
        retrieve_reversal,
        sp.TransferRetrieveReversalParams,
    ),
]
