"""Card authorisation shared by PaymentIntents, SetupIntents and 3-D Secure.

The test card's behaviour (see :mod:`stripe_sandbox.cards`) decides whether an
attempt succeeds, declines (402 ``card_error``, a failed charge, the intent
back to ``requires_payment_method``) or needs 3-D Secure (``requires_action``
with a ``next_action`` pointing at the sandbox's challenge page).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from .. import cards, ids
from ..errors import StripeError
from ..render import public
from ..sandbox import Ctx
from ..store import Obj


def needs_authentication(pm: Obj, intent: Obj, off_session: bool) -> bool:
    """Does this attempt need 3-D Secure (and has it not been done yet)?"""
    if intent.get("_authenticated"):
        return False
    behaviour = pm["_behaviour"]
    if behaviour == "3ds_always":
        return True
    # 4000 0025 0000 3155: once set up for future use, off-session payments pass.
    return behaviour == "3ds_setup" and not (off_session and pm.get("_set_up"))


def next_action(ctx: Ctx, intent: Obj, return_url: str | None, use_stripe_sdk: bool) -> Obj:
    """Both flavours Stripe uses; ``type`` says which one Stripe.js should follow."""
    url = f"{ctx.sandbox.config.base_url}/3ds/{intent['id']}"
    action_type = "redirect_to_url" if return_url and not use_stripe_sdk else "use_stripe_sdk"
    # A full-page redirect must bring the buyer back: the challenge page sends them
    # to return_url when it is done (Stripe.js's own modal does not need it).
    redirect_url = f"{url}?{urlencode({'return_url': return_url})}" if return_url else url
    return {
        "type": action_type,
        "redirect_to_url": {"return_url": return_url, "url": redirect_url},
        "use_stripe_sdk": {
            "type": "three_d_secure_redirect",
            "stripe_js": url,
            "source": ids.new_id("src"),
            "three_d_secure_2_source": ids.new_id("payatt"),
            "directory_server_name": "visa",
        },
    }


def decline_for(pm: Obj, off_session_auth: bool = False) -> cards.Decline | None:
    """The decline this card produces when charged, if any."""
    if off_session_auth:
        return cards.DECLINES["authentication_required"]
    behaviour = pm["_behaviour"]
    if behaviour == "charge_fails":
        return cards.GENERIC
    return cards.DECLINES.get(behaviour)


def error_payload(decline: cards.Decline, pm: Obj, charge_id: str | None) -> Obj:
    """``last_payment_error`` / the 402 body's ``error`` for a decline."""
    error: Obj = {
        "type": "card_error",
        "code": decline.code,
        "decline_code": decline.decline_code,
        "doc_url": f"https://stripe.com/docs/error-codes/{decline.code.replace('_', '-')}",
        "message": decline.message,
        "payment_method": snapshot(pm),
    }
    if charge_id:
        error["charge"] = charge_id
    return error


def card_error(
    decline: cards.Decline, pm: Obj, charge_id: str | None, **intent: Any
) -> StripeError:
    return StripeError(
        402,
        "card_error",
        decline.message,
        code=decline.code,
        decline_code=decline.decline_code,
        charge=charge_id,
        payment_method=snapshot(pm),
        **intent,
    )


def snapshot(obj: Obj) -> Obj:
    """A deep copy of an object's public fields (for errors and events)."""
    return json.loads(json.dumps(public(obj)))


def new_charge(ctx: Ctx, intent: Obj, pm: Obj, *, decline: cards.Decline | None) -> Obj:
    """The Charge of one payment attempt (succeeded but uncaptured, or failed)."""
    now = ctx.now()
    card = pm["card"]
    succeeded = decline is None
    authenticated = bool(intent.get("_authenticated"))
    cvc_check = "fail" if decline and decline.code == "incorrect_cvc" else "pass"
    charge: Obj = {
        "id": ids.new_id("ch"),
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": intent.get("application_fee_amount"),
        "balance_transaction": None,
        "billing_details": pm["billing_details"],
        "calculated_statement_descriptor": "SANDBOX* MARKETPLACE",
        "captured": False,
        "created": now,
        "currency": intent["currency"],
        "customer": intent.get("customer"),
        "description": intent.get("description"),
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": decline.code if decline else None,
        "failure_message": decline.message if decline else None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent.get("metadata") or {}),
        "on_behalf_of": intent.get("on_behalf_of"),
        "outcome": _outcome(decline),
        "paid": succeeded,
        "payment_intent": intent["id"] if intent["object"] == "payment_intent" else None,
        "payment_method": pm["id"],
        "payment_method_details": {
            "card": {
                "amount_authorized": intent["amount"] if succeeded else None,
                "authorization_code": "123456" if succeeded else None,
                "brand": card["brand"],
                # Set for a manual capture by the attempt (charges.hold): by brand.
                "capture_before": None,
                "checks": {**card["checks"], "cvc_check": cvc_check},
                "country": card["country"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "extended_authorization": {"status": "disabled"},
                "fingerprint": card["fingerprint"],
                "funding": card["funding"],
                "incremental_authorization": {"status": "unavailable"},
                "installments": None,
                "last4": card["last4"],
                "mandate": None,
                "multicapture": {"status": "unavailable"},
                "network": card["brand"],
                "network_token": {"used": False},
                "network_transaction_id": ids.secret_token(15) if succeeded else None,
                "overcapture": {
                    "maximum_amount_capturable": intent["amount"],
                    "status": "unavailable",
                },
                "regulated_status": "unregulated",
                "three_d_secure": (
                    {
                        "authentication_flow": "challenge",
                        "electronic_commerce_indicator": "05",
                        "exemption_indicator": None,
                        "result": "authenticated",
                        "result_reason": None,
                        "transaction_id": ids.secret_token(20),
                        "version": "2.2.0",
                    }
                    if authenticated
                    else None
                ),
                "wallet": None,
            },
            "type": "card",
        },
        "radar_options": {},
        "receipt_email": intent.get("receipt_email"),
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "review": None,
        "shipping": intent.get("shipping"),
        "source": None,
        "source_transfer": None,
        "statement_descriptor": intent.get("statement_descriptor"),
        "statement_descriptor_suffix": intent.get("statement_descriptor_suffix"),
        "status": "succeeded" if succeeded else "failed",
        "transfer_data": intent.get("transfer_data"),
        "transfer_group": intent.get("transfer_group"),
        "_refunded_total": 0,
        "_released": 0,
        "_reversed_by_refunds": 0,
        "_fee_refunded_by_refunds": 0,
        "_bypass_pending": pm["_behaviour"] == "bypass_pending",
    }
    charge["receipt_url"] = f"{ctx.sandbox.config.base_url}/receipts/{charge['id']}"
    return ctx.store.add(charge, ctx.account)


def _outcome(decline: cards.Decline | None) -> Obj:
    if decline is None:
        return {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    return {
        "advice_code": "try_again_later" if decline.code == "processing_error" else None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "declined_by_network",
        "reason": decline.decline_code,
        "risk_level": "normal",
        "risk_score": 20,
        "seller_message": decline.seller_message,
        "type": decline.outcome_type,
    }
