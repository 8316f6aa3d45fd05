"""PaymentMethods (cards only): create from test card details or ``pm_card_*``
shortcuts, retrieve, update, attach, detach, list."""

from __future__ import annotations

import datetime
from typing import Any

import stripe.params as sp

from .. import cards, ids
from ..errors import StripeError, invalid_request
from ..sandbox import Ctx
from ..store import Obj
from .common import Endpoint, fetch, fetch_param, list_where, update_fields


def _card_error(message: str, code: str, param: str) -> StripeError:
    return StripeError(402, "card_error", message, code=code, param=param)


def build(
    ctx: Ctx,
    card: dict[str, Any],
    billing_details: dict | None,
    metadata: Any,
    param_prefix: str = "card",
) -> Obj:
    """A new card PaymentMethod from raw card details (numbers never stored)."""
    number = str(card.get("number", "")).replace(" ", "")
    for key in ("number", "exp_month", "exp_year"):
        if key not in card:
            raise invalid_request(
                f"Missing required param: {param_prefix}[{key}].",
                param=f"{param_prefix}[{key}]",
                code="parameter_missing",
            )
    if not cards.luhn_valid(number):
        raise _card_error(
            "Your card number is incorrect.", "incorrect_number", f"{param_prefix}[number]"
        )
    exp_month, exp_year = _as_int(card["exp_month"]), _as_int(card["exp_year"])
    if exp_month is None or not 1 <= exp_month <= 12:
        raise _card_error(
            "Your card's expiration month is invalid.",
            "invalid_expiry_month",
            f"{param_prefix}[exp_month]",
        )
    if exp_year is not None and exp_year < 100:
        exp_year += 2000
    _check_expiry(ctx, exp_month, exp_year, param_prefix)
    cvc = card.get("cvc")
    if cvc is not None and (not str(cvc).isdigit() or len(str(cvc)) not in (3, 4)):
        raise _card_error(
            "Your card's security code is invalid.", "invalid_cvc", f"{param_prefix}[cvc]"
        )
    details = cards.card_details(number, exp_month, exp_year)
    if cvc is not None:
        details["checks"]["cvc_check"] = "unchecked"
    address_keys = ("city", "country", "line1", "line2", "postal_code", "state")
    billing = billing_details or {}
    pm: Obj = {
        "id": ids.new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": {key: (billing.get("address") or {}).get(key) for key in address_keys},
            "email": billing.get("email") or None,
            "name": billing.get("name") or None,
            "phone": billing.get("phone") or None,
            "tax_id": None,
        },
        "card": details,
        "created": ctx.now(),
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "type": "card",
        "_behaviour": cards.CARD_BEHAVIOUR.get(number, "success"),
        "_set_up": False,
    }
    return ctx.store.add(pm, ctx.account)


def _today(ctx: Ctx) -> datetime.date:
    """The sandbox clock's date (UTC): `/_sandbox/clock` moves it, so cards expire."""
    return datetime.datetime.fromtimestamp(ctx.now(), datetime.UTC).date()


def _check_expiry(ctx: Ctx, exp_month: int, exp_year: int | None, param_prefix: str) -> None:
    today = _today(ctx)
    if exp_year is None or (exp_year, exp_month) < (today.year, today.month) or exp_year > 2100:
        raise _card_error(
            "Your card's expiration year is invalid.",
            "invalid_expiry_year",
            f"{param_prefix}[exp_year]",
        )


def expired(ctx: Ctx, pm: Obj) -> bool:
    """Whether a saved card is past its expiry month (a card works to the month's end)."""
    card = pm.get("card") or {}
    today = _today(ctx)
    return (card.get("exp_year", 0), card.get("exp_month", 0)) < (today.year, today.month)


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def resolve(ctx: Ctx, pm_id: str, param: str = "payment_method") -> Obj:
    """A PaymentMethod by id; a ``pm_card_*`` shortcut makes a fresh one, as Stripe does."""
    number = cards.SHORTCUTS.get(pm_id)
    if number is not None:
        year = _today(ctx).year + 3
        return build(
            ctx, {"number": number, "exp_month": 12, "exp_year": year, "cvc": "123"}, None, None
        )
    return fetch_param(ctx, "payment_method", pm_id, param)


def create(ctx: Ctx, params: dict[str, Any]) -> Obj:
    pm_type = params.get("type")
    if params.get("payment_method"):
        # Cloning a platform PaymentMethod onto a connected account (Connect).
        source = ctx.store.get(params["payment_method"], "payment_method")
        if source is None:
            raise invalid_request(
                f"No such PaymentMethod: '{params['payment_method']}'",
                param="payment_method",
                code="resource_missing",
            )
        clone = {**source, "id": ids.new_id("pm"), "customer": None, "created": ctx.now()}
        return ctx.store.add(clone, ctx.account)
    if pm_type != "card":
        if pm_type is None:
            raise invalid_request(
                "Missing required param: type.", param="type", code="parameter_missing"
            )
        raise invalid_request(
            f"The payment method type provided: {pm_type} is invalid. This sandbox "
            "supports card PaymentMethods only.",
            param="type",
        )
    card = params.get("card")
    if not isinstance(card, dict):
        raise invalid_request(
            "Missing required param: card.", param="card", code="parameter_missing"
        )
    if "token" in card:
        raise invalid_request(
            "Card tokens are not supported by the sandbox; send card "
            "details or use a pm_card_* id.",
            param="card[token]",
        )
    return build(ctx, card, params.get("billing_details"), params.get("metadata"))


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    if id in cards.SHORTCUTS:
        return resolve(ctx, id)
    return fetch(ctx, "payment_method", id)


def update(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    pm = fetch(ctx, "payment_method", id)
    previous = update_fields(pm, params, ("allow_redisplay",))
    if params.get("card"):
        previous.update(_update_expiry(ctx, pm, params["card"]))
    if "billing_details" in params:
        previous["billing_details"] = dict(pm["billing_details"])
        for key, value in (params["billing_details"] or {}).items():
            if key == "address":
                pm["billing_details"]["address"].update(value or {})
            else:
                pm["billing_details"][key] = value or None
    ctx.store.touch(pm)
    if previous:
        ctx.emit("payment_method.updated", pm, previous)
    return pm


def _update_expiry(ctx: Ctx, pm: Obj, card: dict[str, Any]) -> dict:
    """A new expiry date for a saved card (a reissued card): checked as when created."""
    month = _as_int(card.get("exp_month", pm["card"]["exp_month"]))
    year = _as_int(card.get("exp_year", pm["card"]["exp_year"]))
    if month is None or not 1 <= month <= 12:
        raise _card_error(
            "Your card's expiration month is invalid.", "invalid_expiry_month", "card[exp_month]"
        )
    if year is not None and year < 100:
        year += 2000
    _check_expiry(ctx, month, year, "card")
    before = dict(pm["card"])
    pm["card"] = {**pm["card"], "exp_month": month, "exp_year": year}
    return {"card": before} if before != pm["card"] else {}


def expired_card_error(pm: Obj) -> StripeError:
    """What Stripe answers when a saved card past its expiry is used."""
    decline = cards.DECLINES["expired_card"]
    return StripeError(
        402,
        "card_error",
        decline.message,
        code=decline.code,
        decline_code=decline.decline_code,
        param="exp_month",
    )


def attach_to(ctx: Ctx, pm_id: str, customer: Obj, param: str = "payment_method") -> Obj:
    """Attach a PaymentMethod to a customer (declining test cards fail here, as on Stripe)."""
    pm = resolve(ctx, pm_id, param)
    if pm["customer"] == customer["id"]:
        return pm
    if pm["customer"] is not None:
        raise invalid_request(
            "The payment method you provided has already been attached to a customer.",
            param=param,
        )
    if expired(ctx, pm):
        raise expired_card_error(pm)
    behaviour = pm["_behaviour"]
    if behaviour in cards.FAILS_ON_ATTACH:
        decline = cards.DECLINES[behaviour]
        raise StripeError(
            402,
            "card_error",
            decline.message,
            code=decline.code,
            decline_code=decline.decline_code,
            param="",
        )
    pm["customer"] = customer["id"]
    ctx.store.touch(pm)
    ctx.emit("payment_method.attached", pm)
    return pm


def attach(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    if not params.get("customer"):
        raise invalid_request(
            "Missing required param: customer.", param="customer", code="parameter_missing"
        )
    customer = fetch_param(ctx, "customer", params["customer"], "customer")
    return attach_to(ctx, id, customer, "payment_method")


def detach(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    pm = fetch(ctx, "payment_method", id)
    if pm["customer"] is None:
        raise invalid_request(
            "The payment method you provided is not attached to a customer "
            "so detachment is impossible.",
            param="payment_method",
        )
    previous = {"customer": pm["customer"]}
    customer = ctx.store.get(pm["customer"], "customer")
    pm["customer"] = None
    ctx.store.touch(pm)
    ctx.emit("payment_method.detached", pm, previous)
    if customer is not None:
        _forget_default(ctx, customer, pm["id"])
    return pm


def _forget_default(ctx: Ctx, customer: Obj, pm_id: str) -> None:
    """A detached card is no longer the customer's default: the default must be a
    card attached to the customer."""
    settings = customer["invoice_settings"]
    if settings.get("default_payment_method") != pm_id:
        return
    previous = {"invoice_settings": dict(settings)}
    settings["default_payment_method"] = None
    ctx.store.touch(customer)
    ctx.emit("customer.updated", customer, previous)


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    customer_id = params.get("customer")
    if customer_id:
        fetch_param(ctx, "customer", customer_id, "customer")
    return list_where(ctx, "payment_method", "/v1/payment_methods", params, ("customer", "type"))


def list_for_customer(ctx: Ctx, params: dict[str, Any], customer: str) -> Obj:
    fetch(ctx, "customer", customer)
    url = f"/v1/customers/{customer}/payment_methods"
    return list_where(ctx, "payment_method", url, params, ("type",), customer=customer)


ROUTES = [
    Endpoint("POST", "/v1/payment_methods", create, sp.PaymentMethodCreateParams, publishable=True),
    Endpoint("GET", "/v1/payment_methods", list_all, sp.PaymentMethodListParams),
    Endpoint("GET", "/v1/payment_methods/{id}", retrieve, sp.PaymentMethodRetrieveParams),
    Endpoint("POST", "/v1/payment_methods/{id}", update, sp.PaymentMethodUpdateParams),
    Endpoint("POST", "/v1/payment_methods/{id}/attach", attach, sp.PaymentMethodAttachParams),
    Endpoint("POST", "/v1/payment_methods/{id}/detach", detach, sp.PaymentMethodDetachParams),
    Endpoint(
        "GET",
        "/v1/customers/{customer}/payment_methods",
        list_for_customer,
        sp.CustomerListPaymentMethodsParams,
    ),
]
