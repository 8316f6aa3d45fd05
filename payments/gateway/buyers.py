"""The buyer's side: customers and saved cards, PaymentIntents, refunds.

Each write says, beside the request, how to tell after a 500 whether it took
effect (`find`): by the ids we put in its metadata, among objects that can only
be ours (our customer's intents, our intent's refunds), or by the state of the
object it changes (a captured or canceled intent).
"""

from __future__ import annotations

from typing import cast

import stripe

from . import _core
from ._core import found, having, plain, since, translated_errors, write


def customer_create(*, email: str, name: str, user_id: int, idempotency_key: str) -> dict:
    metadata = {"user_id": str(user_id)}
    return write(
        "customer_create",
        idempotency_key,
        lambda options: _core.stripe_client().v1.customers.create(
            {"email": email, "name": name, "metadata": metadata}, options
        ),
        lambda: found(
            "customer_find",
            lambda: _core.stripe_client().v1.customers.list({"email": email, "limit": 100}),
            metadata=metadata,
        ),
    )


def customer_payment_methods(*, customer: str) -> list[dict]:
    """The customer's saved cards, newest first."""
    with translated_errors("customer_payment_methods"):
        listing = plain(
            _core.stripe_client().v1.customers.payment_methods.list(
                customer, {"type": "card", "limit": 20}
            )
        )
    return listing["data"]


def payment_method_detach(*, payment_method: str, idempotency_key: str) -> dict:
    def detached() -> dict | None:
        with translated_errors("payment_method_retrieve"):
            method = plain(_core.stripe_client().v1.payment_methods.retrieve(payment_method))
        return method if method.get("customer") is None else None

    return write(
        "payment_method_detach",
        idempotency_key,
        lambda options: _core.stripe_client().v1.payment_methods.detach(
            payment_method, None, options
        ),
        detached,
    )


# --- PaymentIntents ------------------------------------------------------------------


def _shipping_param(shipping: dict) -> stripe.params.PaymentIntentCreateParamsShipping:
    """Our address dict as the SDK's type (name and address; Stripe requires both)."""
    address = cast(stripe.params.PaymentIntentCreateParamsShippingAddress, shipping["address"])
    return {"name": shipping["name"], "address": address}


def payment_intent_create(
    *,
    amount: int,
    currency: str,
    customer: str,
    destination: str,
    application_fee_amount: int,
    order_id: int,
    order_public_id: str,
    idempotency_key: str,
    shipping: dict | None = None,
) -> dict:
    """A destination charge authorised now and captured on fulfilment. `shipping`:
    where the goods go (`{"name", "address": {...}}`), for orders that ship."""
    metadata = {"order_id": str(order_id), "order_public_id": order_public_id}
    params: stripe.params.PaymentIntentCreateParams = {
        "amount": amount,
        "currency": currency,
        "customer": customer,
        "capture_method": "manual",
        "allowed_payment_method_types": ["card"],
        "application_fee_amount": application_fee_amount,
        "transfer_data": {"destination": destination},
        "metadata": metadata,
        "description": f"Order {order_public_id}",
    }
    if shipping is not None:
        params["shipping"] = _shipping_param(shipping)
    recent: stripe.params.PaymentIntentListParams = {
        "customer": customer,
        "created": {"gte": since()},
        "limit": 100,
    }
    return write(
        "payment_intent_create",
        idempotency_key,
        lambda options: _core.stripe_client().v1.payment_intents.create(params, options),
        # The order's public id is a UUID: an intent carrying it is this order's.
        lambda: found(
            "payment_intent_find",
            lambda: _core.stripe_client().v1.payment_intents.list(recent),
            metadata=metadata,
        ),
    )


def platform_payment_intent_create(
    *,
    amount: int,
    currency: str,
    customer: str,
    transfer_group: str,
    checkout_id: str,
    order_ids: list[int],
    idempotency_key: str,
    shipping: dict | None = None,
) -> dict:
    """One charge on the platform for a checkout of several contractors' orders
    (separate charges and transfers): authorised now, captured at the first
    fulfilment, each contractor paid by a transfer in `transfer_group` later.

    No `application_fee_amount` nor `transfer_data`: the platform keeps the money
    until each order's transfer.
    """
    metadata = {"checkout_id": checkout_id}
    orders = ",".join(str(order_id) for order_id in order_ids)
    if len(orders) <= 500:  # Stripe's limit for a metadata value
        metadata["order_ids"] = orders
    params: stripe.params.PaymentIntentCreateParams = {
        "amount": amount,
        "currency": currency,
        "customer": customer,
        "capture_method": "manual",
        "allowed_payment_method_types": ["card"],
        "transfer_group": transfer_group,
        "metadata": metadata,
        "description": f"Checkout {checkout_id} ({len(order_ids)} orders)",
    }
    if shipping is not None:
        params["shipping"] = _shipping_param(shipping)
    recent: stripe.params.PaymentIntentListParams = {
        "customer": customer,
        "created": {"gte": since()},
        "limit": 100,
    }
    return write(
        "payment_intent_create",
        idempotency_key,
        lambda options: _core.stripe_client().v1.payment_intents.create(params, options),
        # The checkout id is a UUID: an intent carrying it is this checkout's.
        lambda: found(
            "payment_intent_find",
            lambda: _core.stripe_client().v1.payment_intents.list(recent),
            metadata={"checkout_id": checkout_id},
        ),
    )


def payment_intent_update(*, payment_intent: str, amount: int, idempotency_key: str) -> dict:
    """Change what an intent not yet paid asks for (an order left a shared checkout)."""
    params: stripe.params.PaymentIntentUpdateParams = {"amount": amount}

    def updated() -> dict | None:
        intent = payment_intent_retrieve(payment_intent=payment_intent)
        return intent if intent["amount"] == amount else None

    return write(
        "payment_intent_update",
        idempotency_key,
        lambda options: _core.stripe_client().v1.payment_intents.update(
            payment_intent, params, options
        ),
        updated,
    )


def payment_intent_shipping_update(
    *, payment_intent: str, shipping: dict, idempotency_key: str
) -> dict:
    """Where an intent not yet paid ships to: the buyer corrected the address after
    the pay step was prepared. Repeating it changes nothing, so a 500 is re-read."""
    params: stripe.params.PaymentIntentUpdateParams = {
        "shipping": cast(stripe.params.PaymentIntentUpdateParamsShipping, _shipping_param(shipping))
    }

    def updated() -> dict | None:
        # Stripe's `shipping` has more keys than we send (carrier, phone, null parts):
        # it is the update when what we sent is in it.
        intent = payment_intent_retrieve(payment_intent=payment_intent)
        there = intent.get("shipping") or {}
        address, sent = there.get("address") or {}, shipping["address"]
        # Every part, a missing one as empty: an update that only drops a part (no
        # line2 any more) is not mistaken for the old address.
        parts = ("line1", "line2", "city", "postal_code", "state", "country")
        same = there.get("name") == shipping["name"] and all(
            (address.get(k) or "") == (sent.get(k) or "") for k in parts
        )
        return intent if same else None

    return write(
        "payment_intent_shipping_update",
        idempotency_key,
        lambda options: _core.stripe_client().v1.payment_intents.update(
            payment_intent, params, options
        ),
        updated,
    )


def payment_intent_retrieve(*, payment_intent: str, expand_charge: bool = False) -> dict:
    """The intent; with `expand_charge`, its latest charge as an object (for reconciliation)."""
    params: stripe.params.PaymentIntentRetrieveParams = (
        {"expand": ["latest_charge"]} if expand_charge else {}
    )
    with translated_errors("payment_intent_retrieve"):
        result = _core.stripe_client().v1.payment_intents.retrieve(payment_intent, params)
    return plain(result)


def payment_intent_list(*, created_gte: int, starting_after: str = "") -> dict:
    """One page (100) of PaymentIntents created since `created_gte` (Unix time)."""
    params: stripe.params.PaymentIntentListParams = {
        "limit": 100,
        "created": {"gte": created_gte},
    }
    if starting_after:
        params["starting_after"] = starting_after
    with translated_errors("payment_intent_list"):
        return plain(_core.stripe_client().v1.payment_intents.list(params))


def _intent_if(payment_intent: str, status: str) -> dict | None:
    intent = payment_intent_retrieve(payment_intent=payment_intent)
    return intent if intent["status"] == status else None


def payment_intent_capture(
    *,
    payment_intent: str,
    idempotency_key: str,
    amount_to_capture: int | None = None,
    application_fee_amount: int | None = None,
    platform_charge: bool = False,
) -> dict:
    """Capture an authorisation, all of it or `amount_to_capture`.

    A partial capture of a destination charge must name its own
    `application_fee_amount` (shop.fees.platform_fee of the captured amount): Stripe
    would otherwise keep the fee set for the whole amount, capped only at what is
    captured, and the contractor would pay the whole order's fee on part of it. A
    `platform_charge` (a checkout's, separate charges and transfers) has no fee.
    """
    if amount_to_capture is not None and application_fee_amount is None and not platform_charge:
        raise ValueError("a partial capture needs the application_fee_amount of what it captures")
    if platform_charge and application_fee_amount is not None:
        raise ValueError("a platform charge has no application fee: its transfers leave the fee")
    params: stripe.params.PaymentIntentCaptureParams = {}
    if amount_to_capture is not None:
        params["amount_to_capture"] = amount_to_capture
    if application_fee_amount is not None:
        params["application_fee_amount"] = application_fee_amount
    return write(
        "payment_intent_capture",
        idempotency_key,
        lambda options: _core.stripe_client().v1.payment_intents.capture(
            payment_intent, params, options
        ),
        # Still requires_capture (or canceled): not captured; another key may ask again,
        # and Stripe itself refuses to capture anything but requires_capture.
        lambda: _intent_if(payment_intent, "succeeded"),
    )


def payment_intent_cancel(*, payment_intent: str, idempotency_key: str, reason: str) -> dict:
    """Release an authorisation. `reason`: abandoned, requested_by_customer, duplicate…"""
    params: stripe.params.PaymentIntentCancelParams = {"cancellation_reason": reason}
    return write(
        "payment_intent_cancel",
        # One key per reason: a cancel with another reason is another request (Stripe
        # would answer a reused key with idempotency_error).
        f"{idempotency_key}-{reason}" if idempotency_key else "",
        lambda options: _core.stripe_client().v1.payment_intents.cancel(
            payment_intent, params, options
        ),
        lambda: _intent_if(payment_intent, "canceled"),
    )


# --- Refunds and charges -----------------------------------------------------------


def refund_create(
    *,
    payment_intent: str,
    amount: int,
    reason: str,
    reverse_transfer: bool,
    refund_application_fee: bool,
    refund_id: int,
    idempotency_key: str,
) -> dict:
    metadata = {"refund_id": str(refund_id)}
    params: stripe.params.RefundCreateParams = {
        "payment_intent": payment_intent,
        "amount": amount,
        "reverse_transfer": reverse_transfer,
        "refund_application_fee": refund_application_fee,
        "metadata": metadata,
    }
    if reason:
        params["reason"] = reason
    return write(
        "refund_create",
        idempotency_key,
        lambda options: _core.stripe_client().v1.refunds.create(params, options),
        # Our refund row's id, among the refunds of our payment's intent.
        lambda: having(refund_list(payment_intent=payment_intent), metadata=metadata),
    )


def refund_list(*, payment_intent: str) -> list[dict]:
    with translated_errors("refund_list"):
        listing = plain(
            _core.stripe_client().v1.refunds.list({"payment_intent": payment_intent, "limit": 100})
        )
    return listing["data"]


def charge_retrieve(*, charge: str) -> dict:
    with translated_errors("charge_retrieve"):
        result = _core.stripe_client().v1.charges.retrieve(charge)
    return plain(result)
