"""PaymentIntents: create, retrieve, update, confirm, capture, cancel, list.

Statuses: requires_payment_method → requires_confirmation → requires_action
(3-D Secure) → requires_capture (``capture_method=manual``) → succeeded, or
canceled. A decline returns the intent to requires_payment_method with
``last_payment_error`` and answers 402, as Stripe does. Authorisations expire
at the charge's ``capture_before`` (by card brand and initiator, as Stripe
documents: ``charges.authorization_window``); an expired one is canceled when
next touched, with ``cancellation_reason=expired`` and ``charge.expired``.
"""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from .. import cards, ids
from ..errors import invalid_request, unexpected_state
from ..money import MAXIMUM_AMOUNT, MINIMUM_CHARGE, format_amount
from ..sandbox import Ctx
from ..store import Obj
from . import charges, payment_methods, payments, transfers
from .common import Endpoint, check_currency, fetch, fetch_param, list_where, update_fields
from .shipping import checked as shipping_checked

CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
UPDATABLE_STATUSES = ("requires_payment_method", "requires_confirmation", "requires_action")
CONFIRMABLE = UPDATABLE_STATUSES


def _check_amount(amount: int, currency: str, param: str = "amount") -> None:
    minimum = MINIMUM_CHARGE.get(currency, 1)
    if amount < minimum:
        raise invalid_request(
            f"Amount must be at least {format_amount(minimum, currency)} {currency}",
            param=param,
            code="amount_too_small",
        )
    if amount > MAXIMUM_AMOUNT:
        raise invalid_request(
            f"Amount must be no more than {format_amount(MAXIMUM_AMOUNT, currency)}",
            param=param,
            code="amount_too_large",
        )


def _check_connect(ctx: Ctx, intent: Obj) -> None:
    fee = intent.get("application_fee_amount")
    transfer_data = intent.get("transfer_data")
    if fee is not None and not transfer_data and ctx.account is None:
        raise invalid_request(
            "Can only apply an application_fee_amount when the PaymentIntent is attempting a "
            "direct payment (using an OAuth key or Stripe-Account header) or destination "
            "payment (using `transfer_data[destination]`).",
            param="application_fee_amount",
        )
    if fee is not None and fee > intent["amount"]:
        raise invalid_request(
            "The application fee cannot be greater than the amount.", param="application_fee_amount"
        )
    if transfer_data:
        if transfer_data.get("amount") is not None and fee is not None:
            raise invalid_request(
                "You cannot specify both application_fee_amount and transfer_data[amount].",
                param="application_fee_amount",
            )
        if (transfer_data.get("amount") or 0) > intent["amount"]:
            raise invalid_request(
                "transfer_data[amount] cannot exceed the amount.", param="transfer_data[amount]"
            )
        account = transfers.connected_account(
            ctx, transfer_data["destination"], "transfer_data[destination]"
        )
        transfers.require_transfers_capability(account, "transfer_data[destination]")


def create(ctx: Ctx, params: dict[str, Any]) -> Obj:
    currency = check_currency(params["currency"])
    _check_amount(params["amount"], currency)
    customer = params.get("customer")
    if customer:
        fetch_param(ctx, "customer", customer, "customer")
    intent_id = ids.new_id("pi")
    allowed = params.get("allowed_payment_method_types")
    intent: Obj = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": params["amount"],
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": params.get("application_fee_amount"),
        "automatic_payment_methods": None
        if allowed
        else {"allow_redirects": "always", "enabled": True},
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": params.get("capture_method", "automatic_async"),
        "client_secret": ids.client_secret(intent_id),
        "confirmation_method": params.get("confirmation_method", "automatic"),
        "created": ctx.now(),
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "description": params.get("description"),
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "next_action": None,
        "on_behalf_of": params.get("on_behalf_of"),
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": params.get("receipt_email"),
        "review": None,
        "setup_future_usage": params.get("setup_future_usage"),
        "shipping": shipping_checked(params.get("shipping")),
        "source": None,
        "statement_descriptor": params.get("statement_descriptor"),
        "statement_descriptor_suffix": params.get("statement_descriptor_suffix"),
        "status": "requires_payment_method",
        "transfer_data": params.get("transfer_data"),
        "transfer_group": params.get("transfer_group"),
    }
    _check_connect(ctx, intent)
    pm = None
    if params.get("payment_method"):
        pm = payment_methods.resolve(ctx, params["payment_method"])
        intent["payment_method"] = pm["id"]
        intent["status"] = "requires_confirmation"
    ctx.store.add(intent, ctx.account)
    ctx.emit("payment_intent.created", intent)
    if params.get("confirm"):
        _confirm(ctx, intent, params)
    return intent


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    intent = fetch(ctx, "payment_intent", id)
    _check_client_secret(ctx, intent, params)
    expire_if_due(ctx, intent)
    return intent


def _check_client_secret(ctx: Ctx, intent: Obj, params: dict[str, Any]) -> None:
    if not ctx.publishable:
        return
    secret = params.get("client_secret")
    if not secret:
        raise invalid_request(
            "Missing required param: client_secret.",
            param="client_secret",
            code="parameter_missing",
        )
    if secret != intent["client_secret"]:
        raise invalid_request(
            f"The client_secret provided does not match the client_secret associated with "
            f"the {'PaymentIntent' if intent['object'] == 'payment_intent' else 'SetupIntent'}.",
            param="client_secret",
        )


def update(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    intent = fetch(ctx, "payment_intent", id)
    money_fields = {
        "amount",
        "currency",
        "payment_method",
        "application_fee_amount",
        "capture_method",
        "transfer_data",
        "customer",
        "setup_future_usage",
    }
    touched = money_fields & params.keys()
    if touched and intent["status"] not in UPDATABLE_STATUSES:
        field = sorted(touched)[0]
        raise unexpected_state(
            f"This PaymentIntent's {field} could not be updated because it has a status of "
            f"{intent['status']}. You may only update the {field} of a PaymentIntent with one "
            f"of the following statuses: {', '.join(UPDATABLE_STATUSES)}."
        )
    if "currency" in params:
        params["currency"] = check_currency(params["currency"])
    if "customer" in params and params["customer"]:
        fetch_param(ctx, "customer", params["customer"], "customer")
    if "amount" in params:
        _check_amount(params["amount"], params.get("currency", intent["currency"]))
    if "transfer_data" in params and params["transfer_data"]:
        params["transfer_data"] = {**(intent["transfer_data"] or {}), **params["transfer_data"]}
    if "shipping" in params:
        params["shipping"] = shipping_checked(params["shipping"])
    update_fields(
        intent,
        params,
        (
            "amount",
            "currency",
            "customer",
            "description",
            "receipt_email",
            "setup_future_usage",
            "shipping",
            "statement_descriptor",
            "statement_descriptor_suffix",
            "transfer_group",
            "application_fee_amount",
            "capture_method",
            "transfer_data",
        ),
    )
    if params.get("payment_method"):
        pm = payment_methods.resolve(ctx, params["payment_method"])
        intent["payment_method"] = pm["id"]
        if intent["status"] == "requires_payment_method":
            intent["status"] = "requires_confirmation"
    _check_connect(ctx, intent)
    ctx.store.touch(intent)
    return intent


def confirm(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    intent = fetch(ctx, "payment_intent", id)
    _check_client_secret(ctx, intent, params)
    _confirm(ctx, intent, params)
    return intent


def _confirm(ctx: Ctx, intent: Obj, params: dict[str, Any]) -> None:
    if intent["status"] not in CONFIRMABLE:
        raise unexpected_state(
            f"You cannot confirm this PaymentIntent because it has a status of {intent['status']}.",
            payment_intent=payments.snapshot(intent),
        )
    if "shipping" in params:
        params["shipping"] = shipping_checked(params["shipping"])
    pm = _payment_method_for(ctx, intent, params)
    for key in ("setup_future_usage", "capture_method", "receipt_email", "shipping"):
        if key in params:
            intent[key] = params[key] or None
    if pm["id"] != intent.get("payment_method"):
        intent["_authenticated"] = False
    intent["payment_method"] = pm["id"]
    intent["last_payment_error"] = None
    off_session = bool(params.get("off_session"))
    attempt(
        ctx,
        intent,
        pm,
        off_session=off_session,
        error_on_requires_action=bool(params.get("error_on_requires_action")),
        return_url=params.get("return_url"),
        use_stripe_sdk=params.get("use_stripe_sdk"),
    )


def _payment_method_for(ctx: Ctx, intent: Obj, params: dict[str, Any]) -> Obj:
    if params.get("payment_method"):
        return payment_methods.resolve(ctx, params["payment_method"])
    card = params.get("_card")
    if card:
        data = params.get("payment_method_data") or {}
        return payment_methods.build(
            ctx, card, data.get("billing_details"), None, "payment_method_data[card]"
        )
    if intent.get("payment_method"):
        pm = ctx.store.get(intent["payment_method"], "payment_method")
        if pm is not None:
            return pm
    raise unexpected_state(
        "You cannot confirm this PaymentIntent because it's missing a payment method. "
        "To confirm the PaymentIntent, specify a payment method with the payment_method "
        "parameter.",
        payment_intent=payments.snapshot(intent),
    )


def attempt(
    ctx: Ctx,
    intent: Obj,
    pm: Obj,
    *,
    off_session: bool,
    error_on_requires_action: bool = False,
    return_url: str | None = None,
    use_stripe_sdk: bool | None = None,
) -> None:
    """Run one payment attempt with ``pm``: 3-D Secure, decline or authorisation."""
    # A saved card past its expiry is declined by the issuer, before any challenge.
    expired = payment_methods.expired(ctx, pm)
    needs_auth = not expired and payments.needs_authentication(pm, intent, off_session)
    if needs_auth and not (off_session or error_on_requires_action):
        intent["status"] = "requires_action"
        intent["next_action"] = payments.next_action(ctx, intent, return_url, bool(use_stripe_sdk))
        ctx.store.touch(intent)
        ctx.emit("payment_intent.requires_action", intent)
        return
    decline = (
        cards.DECLINES["expired_card"]
        if expired
        else payments.decline_for(pm, off_session_auth=needs_auth)
    )
    charge = payments.new_charge(ctx, intent, pm, decline=decline)
    if decline is None and intent["capture_method"] == "manual":
        charges.hold(charge, merchant_initiated=off_session)
    intent["latest_charge"] = charge["id"]
    intent["next_action"] = None
    if decline is not None:
        intent["status"] = "requires_payment_method"
        intent["payment_method"] = None
        intent["_authenticated"] = False
        intent["last_payment_error"] = payments.error_payload(decline, pm, charge["id"])
        ctx.store.touch(intent)
        ctx.emit("charge.failed", charge)
        ctx.emit("payment_intent.payment_failed", intent)
        raise payments.card_error(
            decline, pm, charge["id"], payment_intent=payments.snapshot(intent)
        )
    _authorized(ctx, intent, pm, charge)


def _authorized(ctx: Ctx, intent: Obj, pm: Obj, charge: Obj) -> None:
    if intent.get("setup_future_usage") and intent.get("customer"):
        customer = ctx.store.get(intent["customer"], "customer")
        if customer is not None and pm["customer"] is None:
            payment_methods.attach_to(ctx, pm["id"], customer)
        pm["_set_up"] = True
        ctx.store.touch(pm)
    ctx.emit("charge.succeeded", charge)
    if intent["capture_method"] == "manual":
        intent["status"] = "requires_capture"
        intent["amount_capturable"] = intent["amount"]
        ctx.store.touch(intent)
        ctx.emit(
            "payment_intent.amount_capturable_updated",
            intent,
            {"amount_capturable": 0, "status": "requires_confirmation"},
        )
        return
    charges.capture_funds(ctx, charge, intent["amount"], intent.get("application_fee_amount"))
    intent["status"] = "succeeded"
    intent["amount_received"] = intent["amount"]
    ctx.store.touch(intent)
    ctx.emit("payment_intent.succeeded", intent)


def capture(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    intent = fetch(ctx, "payment_intent", id)
    expire_if_due(ctx, intent)
    if intent["status"] != "requires_capture":
        raise unexpected_state(
            f"This PaymentIntent could not be captured because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses may "
            f"be captured: requires_capture.",
            payment_intent=payments.snapshot(intent),
        )
    capturable = intent["amount_capturable"]
    amount = params.get("amount_to_capture", capturable)
    if amount > capturable:
        raise invalid_request(
            f"The amount_to_capture ({amount}) is greater than the amount_capturable "
            f"({capturable}) of this PaymentIntent.",
            param="amount_to_capture",
            code="amount_too_large",
        )
    if amount < 1:
        raise invalid_request("Invalid positive integer", param="amount_to_capture")
    if "application_fee_amount" in params:
        if not intent.get("transfer_data") and ctx.account is None:
            raise invalid_request(
                "Can only apply an application_fee_amount to a destination or direct payment.",
                param="application_fee_amount",
            )
        intent["application_fee_amount"] = params["application_fee_amount"]
    fee = intent.get("application_fee_amount")
    if fee is not None:
        # Stripe caps the fee at the captured amount.
        fee = min(fee, amount)
    update_fields(intent, params, ("statement_descriptor", "statement_descriptor_suffix"))
    charge = fetch(ctx, "charge", intent["latest_charge"])
    previous = charges.capture_funds(ctx, charge, amount, fee)
    intent["status"] = "succeeded"
    intent["amount_received"] = amount
    intent["amount_capturable"] = 0
    ctx.store.touch(intent)
    ctx.emit("charge.captured", charge, previous)
    ctx.emit(
        "payment_intent.succeeded",
        intent,
        {"amount_capturable": capturable, "amount_received": 0, "status": "requires_capture"},
    )
    return intent


def cancel(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    intent = fetch(ctx, "payment_intent", id)
    expire_if_due(ctx, intent)
    if intent["status"] not in CANCELABLE:
        raise unexpected_state(
            f"You cannot cancel this PaymentIntent because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses may "
            f"be canceled: {', '.join(CANCELABLE)}.",
            payment_intent=payments.snapshot(intent),
        )
    reason = params.get("cancellation_reason")
    if reason is not None and reason not in CANCEL_REASONS:
        # Stripe sets `automatic`, `expired` and the others itself; a caller may only
        # give one of these.
        raise invalid_request(
            f"Invalid cancellation_reason: must be one of {', '.join(CANCEL_REASONS)}",
            param="cancellation_reason",
        )
    _cancel(ctx, intent, reason)
    return intent


CANCEL_REASONS = ("abandoned", "duplicate", "fraudulent", "requested_by_customer")


def _cancel(ctx: Ctx, intent: Obj, reason: str | None, *, expired: bool = False) -> None:
    if intent["status"] == "requires_capture":
        charge = ctx.store.get(intent["latest_charge"], "charge")
        if charge is not None:
            charges.release(ctx, charge, expired=expired)
    intent["status"] = "canceled"
    intent["canceled_at"] = ctx.now()
    intent["cancellation_reason"] = reason
    intent["amount_capturable"] = 0
    intent["next_action"] = None
    ctx.store.touch(intent)
    ctx.emit("payment_intent.canceled", intent)


def expire_if_due(ctx: Ctx, intent: Obj) -> None:
    """Cancel an authorisation left uncaptured past ``capture_before``: Stripe's own
    reason for it is ``expired`` (stripe-python's PaymentIntent.cancellation_reason:
    "generated by Stripe internally (failed_invoice, void_invoice, automatic, or
    expired)"), and the charge sends ``charge.expired`` ("Occurs whenever an
    uncaptured charge expires"), not ``charge.refunded``."""
    if intent["status"] != "requires_capture":
        return
    charge = ctx.store.get(intent["latest_charge"] or "", "charge")
    if charge is None:
        return
    capture_before = charge["payment_method_details"]["card"].get("capture_before")
    if capture_before is not None and ctx.now() > capture_before:
        _cancel(ctx, intent, "expired", expired=True)


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    return list_where(ctx, "payment_intent", "/v1/payment_intents", params, ("customer",))


ROUTES = [
    Endpoint("POST", "/v1/payment_intents", create, sp.PaymentIntentCreateParams),
    Endpoint("GET", "/v1/payment_intents", list_all, sp.PaymentIntentListParams),
    Endpoint(
        "GET",
        "/v1/payment_intents/{id}",
        retrieve,
        sp.PaymentIntentRetrieveParams,
        publishable=True,
    ),
    Endpoint("POST", "/v1/payment_intents/{id}", update, sp.PaymentIntentUpdateParams),
    Endpoint(
        "POST",
        "/v1/payment_intents/{id}/confirm",
        confirm,
        sp.PaymentIntentConfirmParams,
        publishable=True,
    ),
    Endpoint("POST", "/v1/payment_intents/{id}/capture", capture, sp.PaymentIntentCaptureParams),
    Endpoint("POST", "/v1/payment_intents/{id}/cancel", cancel, sp.PaymentIntentCancelParams),
]
