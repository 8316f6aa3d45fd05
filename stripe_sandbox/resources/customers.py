"""Customers: create, retrieve, update, delete, list."""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from .. import ids
from ..sandbox import Ctx
from ..store import Obj
from .common import Endpoint, fetch, list_where, save_update, update_fields

UPDATABLE = (
    "description",
    "email",
    "name",
    "phone",
    "address",
    "shipping",
    "preferred_locales",
    "tax_exempt",
)


def create(ctx: Ctx, params: dict[str, Any]) -> Obj:
    from . import payment_methods

    customer: Obj = {
        "id": ids.new_id("cus", 14),
        "object": "customer",
        "address": params.get("address"),
        "balance": params.get("balance", 0),
        "created": ctx.now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": params.get("description"),
        "discount": None,
        "email": params.get("email"),
        "invoice_prefix": ids.secret_token(8).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "name": params.get("name"),
        "next_invoice_sequence": 1,
        "phone": params.get("phone"),
        "preferred_locales": params.get("preferred_locales") or [],
        "shipping": params.get("shipping"),
        "tax_exempt": params.get("tax_exempt", "none"),
        "test_clock": None,
    }
    ctx.store.add(customer, ctx.account)
    if params.get("payment_method"):
        payment_methods.attach_to(ctx, params["payment_method"], customer, "payment_method")
    _set_default_payment_method(ctx, customer, params)
    ctx.emit("customer.created", customer)
    return customer


def _set_default_payment_method(ctx: Ctx, customer: Obj, params: dict[str, Any]) -> dict:
    settings = params.get("invoice_settings") or {}
    if "default_payment_method" not in settings:
        return {}
    pm_id = settings["default_payment_method"] or None
    if pm_id:
        pm = fetch(ctx, "payment_method", pm_id, param="invoice_settings[default_payment_method]")
        if pm.get("customer") != customer["id"]:
            from ..errors import invalid_request

            raise invalid_request(
                f"No such PaymentMethod: '{pm_id}'; It's possible this PaymentMethod exists "
                "on one of your connected accounts, in which case you should retry this "
                "request on that connected account.",
                param="invoice_settings[default_payment_method]",
            )
    before = dict(customer["invoice_settings"])
    customer["invoice_settings"]["default_payment_method"] = pm_id
    return {"invoice_settings": before} if before["default_payment_method"] != pm_id else {}


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return fetch(ctx, "customer", id)


def update(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    customer = fetch(ctx, "customer", id)
    previous = update_fields(customer, params, UPDATABLE)
    previous.update(_set_default_payment_method(ctx, customer, params))
    return save_update(ctx, customer, previous, "customer.updated")


def delete(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    customer = fetch(ctx, "customer", id)
    ctx.store.remove(id)
    ctx.emit("customer.deleted", customer)
    return {"id": id, "object": "customer", "deleted": True}


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    return list_where(ctx, "customer", "/v1/customers", params, ("email",))


ROUTES = [
    Endpoint("POST", "/v1/customers", create, sp.CustomerCreateParams),
    Endpoint("GET", "/v1/customers", list_all, sp.CustomerListParams),
    Endpoint("GET", "/v1/customers/{id}", retrieve, sp.CustomerRetrieveParams),
    Endpoint("POST", "/v1/customers/{id}", update, sp.CustomerUpdateParams),
    Endpoint("DELETE", "/v1/customers/{id}", delete, sp.CustomerDeleteParams),
]
