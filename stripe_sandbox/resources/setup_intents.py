"""SetupIntents: save a card for later (off-session) payments."""

from __future__ import annotations

import contextlib
from typing import Any

import stripe.params as sp

from .. import cards, ids
from ..errors import StripeError, unexpected_state
from ..sandbox import Ctx
from ..store import Obj
from . import payment_intents, payment_methods, payments, three_d_secure
from .common import Endpoint, fetch, fetch_param, list_where, update_fields

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


def create(ctx: Ctx, params: dict[str, Any]) -> Obj:
    customer = params.get("customer")
    if customer:
        fetch_param(ctx, "customer", customer, "customer")
    intent_id = ids.new_id("seti")
    intent: Obj = {
        "id": intent_id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": ids.client_secret(intent_id),
        "created": ctx.now(),
        "customer": customer,
        "customer_account": None,
        "description": params.get("description"),
        "excluded_payment_method_types": None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "metadata": dict(params.get("metadata") or {}),
        "next_action": None,
        "on_behalf_of": params.get("on_behalf_of"),
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "single_use_mandate": None,
        "status": "requires_payment_method",
        "usage": params.get("usage", "off_session"),
    }
    if params.get("payment_method"):
        intent["payment_method"] = payment_methods.resolve(ctx, params["payment_method"])["id"]
        intent["status"] = "requires_confirmation"
    ctx.store.add(intent, ctx.account)
    ctx.emit("setup_intent.created", intent)
    if params.get("confirm"):
        _confirm(ctx, intent, params)
    return intent


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    intent = fetch(ctx, "setup_intent", id)
    payment_intents._check_client_secret(ctx, intent, params)  # noqa: SLF001 - shared rule
    return intent


def update(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    intent = fetch(ctx, "setup_intent", id)
    update_fields(intent, params, ("description",))
    if params.get("customer"):
        intent["customer"] = fetch_param(ctx, "customer", params["customer"], "customer")["id"]
    if params.get("payment_method"):
        intent["payment_method"] = payment_methods.resolve(ctx, params["payment_method"])["id"]
        if intent["status"] == "requires_payment_method":
            intent["status"] = "requires_confirmation"
    ctx.store.touch(intent)
    return intent


def confirm(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    intent = fetch(ctx, "setup_intent", id)
    payment_intents._check_client_secret(ctx, intent, params)  # noqa: SLF001
    _confirm(ctx, intent, params)
    return intent


def _confirm(ctx: Ctx, intent: Obj, params: dict[str, Any]) -> None:
    if intent["status"] not in CONFIRMABLE:
        raise unexpected_state(
            f"You cannot confirm this SetupIntent because it has a status of {intent['status']}.",
            code="setup_intent_unexpected_state",
        )
    pm = None
    if params.get("payment_method"):
        pm = payment_methods.resolve(ctx, params["payment_method"])
    elif params.get("_card"):
        data = params.get("payment_method_data") or {}
        pm = payment_methods.build(
            ctx, params["_card"], data.get("billing_details"), None, "payment_method_data[card]"
        )
    elif intent.get("payment_method"):
        pm = ctx.store.get(intent["payment_method"], "payment_method")
    if pm is None:
        raise unexpected_state(
            "You cannot confirm this SetupIntent because it's missing a payment method.",
            code="setup_intent_unexpected_state",
        )
    if pm["id"] != intent.get("payment_method"):
        intent["_authenticated"] = False
    intent["payment_method"] = pm["id"]
    intent["last_setup_error"] = None
    _attempt(ctx, intent, pm, params.get("return_url"), params.get("use_stripe_sdk"))


def _attempt(
    ctx: Ctx,
    intent: Obj,
    pm: Obj,
    return_url: str | None = None,
    use_stripe_sdk: bool | None = None,
) -> None:
    behaviour = pm["_behaviour"]
    if payment_methods.expired(ctx, pm):
        behaviour = "expired_card"  # a saved card past its expiry: declined, no challenge
    if behaviour in ("3ds_always", "3ds_setup") and not intent.get("_authenticated"):
        intent["status"] = "requires_action"
        intent["next_action"] = payments.next_action(ctx, intent, return_url, bool(use_stripe_sdk))
        ctx.store.touch(intent)
        ctx.emit("setup_intent.requires_action", intent)
        return
    if behaviour in cards.FAILS_ON_ATTACH:
        # Setting up verifies the card: hard declines fail now, insufficient funds later.
        decline = cards.DECLINES[behaviour]
        intent["status"] = "requires_payment_method"
        intent["payment_method"] = None
        intent["next_action"] = None
        error = payments.error_payload(decline, pm, None)
        intent["last_setup_error"] = error
        ctx.store.touch(intent)
        ctx.emit("setup_intent.setup_failed", intent)
        raise payments.card_error(decline, pm, None, setup_intent=payments.snapshot(intent))
    intent["status"] = "succeeded"
    intent["next_action"] = None
    if intent.get("customer") and pm["customer"] is None:
        customer = ctx.store.get(intent["customer"], "customer")
        if customer is not None:
            pm["customer"] = customer["id"]
            ctx.emit("payment_method.attached", pm)
    pm["_set_up"] = True
    ctx.store.touch(intent, pm)
    ctx.emit("setup_intent.succeeded", intent)


def finish_authentication(ctx: Ctx, intent_id: str, succeed: bool) -> Obj:
    intent, pm = three_d_secure.awaiting_challenge(
        ctx, "setup_intent", intent_id, "SetupIntent", "setup_intent_unexpected_state"
    )
    if not succeed:
        error = three_d_secure.authentication_failure(pm)
        error["code"] = "setup_intent_authentication_failure"
        error["doc_url"] = "https://stripe.com/docs/error-codes/setup-intent-authentication-failure"
        return three_d_secure.fail_challenge(
            ctx, intent, "last_setup_error", error, "setup_intent.setup_failed"
        )
    intent["_authenticated"] = True
    with contextlib.suppress(StripeError):
        _attempt(ctx, intent, pm)
    return intent


def cancel(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    intent = fetch(ctx, "setup_intent", id)
    if intent["status"] in ("succeeded", "canceled"):
        raise unexpected_state(
            f"You cannot cancel this SetupIntent because it has a status of {intent['status']}.",
            code="setup_intent_unexpected_state",
        )
    intent["status"] = "canceled"
    intent["cancellation_reason"] = params.get("cancellation_reason")
    intent["next_action"] = None
    ctx.store.touch(intent)
    ctx.emit("setup_intent.canceled", intent)
    return intent


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    return list_where(ctx, "setup_intent", "/v1/setup_intents", params, ("customer",))


ROUTES = [
    Endpoint("POST", "/v1/setup_intents", create, sp.SetupIntentCreateParams),
    Endpoint("GET", "/v1/setup_intents", list_all, sp.SetupIntentListParams),
    Endpoint(
        "GET", "/v1/setup_intents/{id}", retrieve, sp.SetupIntentRetrieveParams, publishable=True
    ),
    Endpoint("POST", "/v1/setup_intents/{id}", update, sp.SetupIntentUpdateParams),
    Endpoint(
        "POST",
        "/v1/setup_intents/{id}/confirm",
        confirm,
        sp.SetupIntentConfirmParams,
        publishable=True,
    ),
    Endpoint("POST", "/v1/setup_intents/{id}/cancel", cancel, sp.SetupIntentCancelParams),
]
