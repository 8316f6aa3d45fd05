"""Charges: capture bookkeeping, account debits (``source=acct_…``), endpoints."""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from .. import ids
from ..errors import invalid_request
from ..money import MAXIMUM_AMOUNT
from ..render import VIRTUAL_FIELDS, public
from ..sandbox import Ctx
from ..store import Obj, Store
from . import application_fees, disputes, transfers
from .common import Endpoint, check_currency, fetch, list_where, save_update, update_fields

# How long an uncaptured card-not-present authorisation holds, from Stripe's "place a
# hold on a payment method": 7 days for a customer-initiated payment (Visa,
# Mastercard, American Express, Discover, and "most card networks"); a Visa
# merchant-initiated one (off_session) holds 4 days and 18 hours ("5 days").
DAY = 24 * 3600
CUSTOMER_INITIATED_WINDOW = 7 * DAY
MERCHANT_INITIATED_WINDOWS = {"visa": 4 * DAY + 18 * 3600}


def authorization_window(brand: str, *, merchant_initiated: bool) -> int:
    """Seconds an authorisation on a card of ``brand`` stays capturable."""
    if merchant_initiated:
        return MERCHANT_INITIATED_WINDOWS.get(brand, CUSTOMER_INITIATED_WINDOW)
    return CUSTOMER_INITIATED_WINDOW


def hold(charge: Obj, *, merchant_initiated: bool) -> None:
    """Set ``capture_before`` on a freshly authorised charge, by its card's brand."""
    card = charge["payment_method_details"]["card"]
    window = authorization_window(card["brand"], merchant_initiated=merchant_initiated)
    card["capture_before"] = charge["created"] + window


def capture_funds(ctx: Ctx, charge: Obj, amount: int, fee: int | None) -> dict[str, Any]:
    """Capture ``amount`` of an authorised charge and move the money.

    The platform is credited with the charge. For a destination charge the full
    captured amount (or ``transfer_data[amount]``) is transferred to the
    destination, and the application fee is collected back from it, as Stripe
    documents; the connected account ends up with ``amount - fee``.
    Returns the charge's ``previous_attributes``.
    """
    previous = {
        "amount_captured": charge["amount_captured"],
        "captured": charge["captured"],
        "balance_transaction": charge["balance_transaction"],
    }
    now = ctx.sandbox.clock.time()
    available_at = now if charge.get("_bypass_pending") else None
    txn = ctx.ledger.record(
        None,
        "charge",
        amount,
        charge["currency"],
        charge["id"],
        description=charge.get("description"),
        available_at=available_at,
    )
    charge["captured"] = True
    charge["amount_captured"] = amount
    charge["balance_transaction"] = txn["id"]
    released = charge["amount"] - amount
    if released:
        # The uncaptured remainder is released back to the card, shown as refunded.
        charge["_released"] = released
        charge["amount_refunded"] = released
    charge["payment_method_details"]["card"]["capture_before"] = None
    transfer_data = charge.get("transfer_data") or {}
    destination = transfer_data.get("destination")
    if destination:
        transfer_amount = min(transfer_data.get("amount") or amount, amount)
        fee = min(fee or 0, transfer_amount)
        transfer = transfers.make_transfer(
            ctx,
            destination,
            transfer_amount,
            charge["currency"],
            source_transaction=charge,
            available_at=txn["_available_at"],
            application_fee=fee,
            transfer_group=charge.get("transfer_group"),
        )
        charge["transfer"] = transfer["id"]
        if fee:
            charge["application_fee_amount"] = fee
            fee_obj = application_fees.collect(ctx, charge, destination, fee, txn["_available_at"])
            charge["application_fee"] = fee_obj["id"]
    ctx.store.touch(charge)
    disputes.open_for_test_card(ctx, charge)  # the dispute test cards, once captured
    return previous


def release(ctx: Ctx, charge: Obj, *, expired: bool = False) -> None:
    """Cancel an uncaptured authorisation: the whole amount goes back to the card.

    Either way the charge is marked refunded (Stripe's capture reference: expired
    uncaptured payments "are marked as refunded and capture attempts will fail"); a
    canceled one says so with ``charge.refunded``, an expired one with
    ``charge.expired`` only."""
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] = charge["amount"]
    charge["_released"] = charge["amount"]
    charge["refunded"] = True
    charge["payment_method_details"]["card"]["capture_before"] = None
    ctx.store.touch(charge)
    ctx.emit("charge.expired" if expired else "charge.refunded", charge, previous)


def _refunds_list(store: Store, charge: Obj) -> Obj:
    items = [
        public(r)
        for r in store.select(
            "refund", charge.get("_account"), lambda r: r["charge"] == charge["id"]
        )
    ]
    return {
        "object": "list",
        "data": items,
        "has_more": False,
        "url": f"/v1/charges/{charge['id']}/refunds",
    }


VIRTUAL_FIELDS[("charge", "refunds")] = _refunds_list


def account_debit(ctx: Ctx, params: dict[str, Any]) -> Obj:
    """``POST /v1/charges`` with ``source=acct_…``: money from a connected account
    to the platform. The connected balance may go negative, as on Stripe."""
    source = params.get("source") or ""
    if not source.startswith("acct_"):
        raise invalid_request(
            "The sandbox creates charges only as account debits (source=acct_…); "
            "use PaymentIntents for card payments.",
            param="source",
        )
    if ctx.account is not None:
        raise invalid_request(
            "Account debits are made by the platform; remove the Stripe-Account header."
        )
    for key in ("amount", "currency"):
        if key not in params:
            raise invalid_request(
                f"Missing required param: {key}.", param=key, code="parameter_missing"
            )
    amount, currency = params["amount"], check_currency(params["currency"])
    if not 1 <= amount <= MAXIMUM_AMOUNT:
        raise invalid_request("Invalid positive integer", param="amount")
    account = transfers.connected_account(ctx, source, "source")
    if account["type"] == "standard":
        raise invalid_request(
            "Debiting connected accounts is only supported for accounts where the platform "
            "is liable for negative balances (Express and Custom).",
            param="source",
        )
    charge_id = ids.new_id("py")
    transfer_id = ids.new_id("tr")
    platform_txn = ctx.ledger.record(
        None, "payment", amount, currency, charge_id, description=params.get("description")
    )
    ctx.ledger.record(
        account["id"],
        "transfer",
        -amount,
        currency,
        transfer_id,
        description=params.get("description"),
    )
    charge: Obj = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": platform_txn["id"],
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "captured": True,
        "created": ctx.now(),
        "currency": currency,
        "customer": None,
        "description": params.get("description"),
        "disputed": False,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "outcome": None,
        "paid": True,
        "payment_intent": None,
        "payment_method": None,
        "payment_method_details": {"stripe_account": {}, "type": "stripe_account"},
        "refunded": False,
        "source": {"id": account["id"], "object": "account"},
        "source_transfer": None,
        "statement_descriptor": params.get("statement_descriptor"),
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": params.get("transfer_group"),
        "_refunded_total": 0,
        "_released": 0,
        "_reversed_by_refunds": 0,
        "_fee_refunded_by_refunds": 0,
        "_debit_transfer": transfer_id,
    }
    ctx.store.add(charge, None)
    ctx.emit("charge.succeeded", charge)
    return charge


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return fetch(ctx, "charge", id)


def update(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    charge = fetch(ctx, "charge", id)
    previous = update_fields(
        charge, params, ("description", "receipt_email", "shipping", "transfer_group")
    )
    return save_update(ctx, charge, previous, "charge.updated")


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    return list_where(
        ctx, "charge", "/v1/charges", params, ("payment_intent", "customer", "transfer_group")
    )


ROUTES = [
    Endpoint("POST", "/v1/charges", account_debit, sp.ChargeCreateParams),
    Endpoint("GET", "/v1/charges", list_all, sp.ChargeListParams),
    Endpoint("GET", "/v1/charges/{id}", retrieve, sp.ChargeRetrieveParams),
    Endpoint("POST", "/v1/charges/{id}", update, sp.ChargeUpdateParams),
]
