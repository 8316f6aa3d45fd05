"""Refunds of captured charges, with Connect reversals.

``reverse_transfer=true`` takes back the refund's proportional share of the
destination transfer (a transfer reversal); ``refund_application_fee=true``
gives back the proportional share of the application fee (a fee refund). Both
use :func:`stripe_sandbox.money.proportional_share`, so successive partial
refunds add up exactly. Without either flag the platform bears the refund.
"""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from .. import ids
from ..errors import invalid_request
from ..money import format_amount
from ..sandbox import Ctx
from ..store import Obj
from . import application_fees, transfers
from .common import Children, Endpoint, fetch, fetch_param, list_where, save_update, update_fields

REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _charge_for(ctx: Ctx, params: dict[str, Any]) -> Obj:
    if params.get("charge"):
        charge = fetch_param(ctx, "charge", params["charge"], "charge")
        if params.get("payment_intent") and charge["payment_intent"] != params["payment_intent"]:
            raise invalid_request(
                "The charge does not belong to the given payment_intent.", param="payment_intent"
            )
        return charge
    if params.get("payment_intent"):
        intent = fetch_param(ctx, "payment_intent", params["payment_intent"], "payment_intent")
        charge = ctx.store.get(intent.get("latest_charge") or "", "charge")
        if intent["status"] == "requires_capture":
            raise invalid_request(
                f"This PaymentIntent ({intent['id']}) has not been captured yet; cancel it to "
                "release the authorization instead.",
                param="payment_intent",
                code="charge_not_refundable",
            )
        if charge is None or intent["status"] != "succeeded":
            raise invalid_request(
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                param="payment_intent",
                code="charge_not_refundable",
            )
        return charge
    raise invalid_request(
        "One of the following params should be provided for this request: "
        "payment_intent or charge.",
        code="parameter_missing",
    )


def create(ctx: Ctx, params: dict[str, Any]) -> Obj:
    charge = _charge_for(ctx, params)
    reason = params.get("reason")
    if reason is not None and reason not in REASONS:
        raise invalid_request(
            f"Invalid reason: must be one of {', '.join(REASONS)}", param="reason"
        )
    if not charge["captured"]:
        raise invalid_request(
            f"Charge {charge['id']} has not been captured.",
            param="charge",
            code="charge_not_refundable",
        )
    if charge.get("disputed") and not _refundable_while_disputed(ctx, charge):
        # The bank already took the money back for the buyer (disputes.py); an inquiry
        # (no money moved yet) may still be settled with a refund.
        raise invalid_request(
            f"Charge {charge['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
        )
    if params.get("reverse_transfer") and not charge.get("transfer"):
        # Separate charges and transfers: the charge made no transfer, and a refund of
        # it does not touch the group's transfers (reverse them yourself).
        raise invalid_request(
            f"Charge {charge['id']} made no transfer: reverse_transfer applies to "
            "destination charges only.",
            param="reverse_transfer",
        )
    currency = charge["currency"]
    remaining = charge["amount_captured"] - charge["_refunded_total"]
    if remaining <= 0:
        raise invalid_request(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    amount = params.get("amount", remaining)
    if amount < 1:
        raise invalid_request("Invalid positive integer", param="amount")
    if amount > remaining:
        raise invalid_request(
            f"Refund amount ({format_amount(amount, currency)}) is greater than unrefunded "
            f"amount on charge ({format_amount(remaining, currency)})",
            param="amount",
            code="amount_too_large",
        )
    refund_id = ids.new_id("re")
    txn = ctx.ledger.record(ctx.account, "refund", -amount, currency, refund_id)
    if charge.get("_debit_transfer"):
        # Refunding an account debit returns the money to the connected account.
        account = (charge.get("source") or {}).get("id")
        ctx.ledger.record(
            account,
            "transfer_refund",
            amount,
            currency,
            refund_id,
            available_at=ctx.sandbox.clock.time(),
        )
    refund: Obj = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": txn["id"],
        "charge": charge["id"],
        "created": ctx.now(),
        "currency": currency,
        "destination_details": {
            "card": {
                "reference": None,
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": dict(params.get("metadata") or {}),
        "payment_intent": charge.get("payment_intent"),
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    ctx.store.add(refund, ctx.account)
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["_refunded_total"] += amount
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["_refunded_total"] >= charge["amount_captured"]
    ctx.store.touch(charge)
    ctx.emit("charge.refunded", charge, previous)
    ctx.emit("refund.created", refund)
    if params.get("reverse_transfer") and charge.get("transfer"):
        _reverse_share(ctx, charge, refund)
    if params.get("refund_application_fee") and charge.get("application_fee"):
        _refund_fee_share(ctx, charge)
    return refund


def _reverse_share(ctx: Ctx, charge: Obj, refund: Obj) -> None:
    """``reverse_transfer``: take the refund's share back from the destination."""
    due = _share_due(ctx, charge, transfers.REVERSALS, charge["transfer"], "_reversed_by_refunds")
    if due is None:
        return
    transfer, share = due
    reversal = transfers.reverse(ctx, transfer, share, source_refund=refund["id"])
    refund["transfer_reversal"] = reversal["id"]
    ctx.store.touch(refund, charge)


def _refund_fee_share(ctx: Ctx, charge: Obj) -> None:
    """``refund_application_fee``: give the refund's share of the fee back."""
    due = _share_due(
        ctx, charge, application_fees.REFUNDS, charge["application_fee"], "_fee_refunded_by_refunds"
    )
    if due is None:
        return
    fee, share = due
    ctx.store.touch(charge)
    application_fees.refund_fee(ctx, fee, share)


def _share_due(
    ctx: Ctx, charge: Obj, children: Children, parent_id: str, counter: str
) -> tuple[Obj, int] | None:
    """The charge's transfer (or fee) and this refund's share of it, or ``None``
    when nothing is due. The share is added to the charge's ``counter`` at once:
    shares are cumulative, so the next partial refund must see this one."""
    parent = ctx.store.get(parent_id, children.parent_kind)
    if parent is None:
        return None
    share = children.share(
        parent, charge["_refunded_total"], charge["amount_captured"], charge[counter]
    )
    if share <= 0:
        return None
    charge[counter] += share
    return parent, share


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return fetch(ctx, "refund", id)


def update(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    refund = fetch(ctx, "refund", id)
    previous = update_fields(refund, params, ())
    return save_update(ctx, refund, previous, "refund.updated", "charge.refund.updated")


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    return list_where(ctx, "refund", "/v1/refunds", params, ("charge", "payment_intent"))


ROUTES = [
    Endpoint("POST", "/v1/refunds", create, sp.RefundCreateParams),
    Endpoint("GET", "/v1/refunds", list_all, sp.RefundListParams),
    Endpoint("GET", "/v1/refunds/{id}", retrieve, sp.RefundRetrieveParams),
    Endpoint("POST", "/v1/refunds/{id}", update, sp.RefundUpdateParams),
]


def _refundable_while_disputed(ctx: Ctx, charge: Obj) -> bool:
    found = ctx.store.select(
        "dispute", charge.get("_account"), lambda d: d.get("charge") == charge["id"]
    )
    return bool(found) and all(d.get("is_charge_refundable") for d in found)
