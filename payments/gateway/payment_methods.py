"""A buyer's saved cards: SetupIntents that save them, the Customer's default card,
and the Customer's details that follow the account (its email).

Saving a card goes through a SetupIntent, confirmed by Stripe.js in the browser
(3-D Secure included), so card numbers never reach our server. The default card is
the Customer's `invoice_settings.default_payment_method`: Stripe refuses one that is
not attached to that Customer.
"""

from __future__ import annotations

import stripe

from . import _core
from ._core import found, nothing, plain, since, translated_errors, write
from .buyers import payment_intent_retrieve


def setup_intent_create(*, customer: str, attempt: str, idempotency_key: str) -> dict:
    """A SetupIntent that saves a card on `customer` for later payments on the site.

    `attempt` is our id for this "add a card" try (in the intent's metadata): after
    a 500 the intent it made is found among the customer's recent ones by it.
    """
    metadata = {"attempt": attempt}
    params: stripe.params.SetupIntentCreateParams = {
        "customer": customer,
        "usage": "on_session",
        "metadata": metadata,
    }
    recent: stripe.params.SetupIntentListParams = {
        "customer": customer,
        "created": {"gte": since()},
        "limit": 100,
    }
    return write(
        "setup_intent_create",
        idempotency_key,
        lambda options: _core.stripe_client().v1.setup_intents.create(params, options),
        lambda: found(
            "setup_intent_find",
            lambda: _core.stripe_client().v1.setup_intents.list(recent),
            metadata=metadata,
        ),
    )


def setup_intent_confirm(*, setup_intent: str, payment_method: str, idempotency_key: str) -> dict:
    """Confirm a SetupIntent from the server with a PaymentMethod that needs no
    authentication (the demo's seed card; buyers confirm theirs with Stripe.js)."""
    params: stripe.params.SetupIntentConfirmParams = {"payment_method": payment_method}

    def confirmed() -> dict | None:
        intent = setup_intent_retrieve(setup_intent=setup_intent)
        return intent if intent["status"] == "succeeded" else None

    return write(
        "setup_intent_confirm",
        idempotency_key,
        lambda options: _core.stripe_client().v1.setup_intents.confirm(
            setup_intent, params, options
        ),
        confirmed,
    )


def setup_intent_retrieve(*, setup_intent: str) -> dict:
    with translated_errors("setup_intent_retrieve"):
        return plain(_core.stripe_client().v1.setup_intents.retrieve(setup_intent))


def customer_retrieve(*, customer: str) -> dict:
    """The Customer (its `invoice_settings.default_payment_method` is the default card)."""
    with translated_errors("customer_retrieve"):
        return plain(_core.stripe_client().v1.customers.retrieve(customer))


def payment_method_retrieve(*, payment_method: str) -> dict:
    with translated_errors("payment_method_retrieve"):
        return plain(_core.stripe_client().v1.payment_methods.retrieve(payment_method))


def customer_default_payment_method_set(
    *, customer: str, payment_method: str, idempotency_key: str
) -> dict:
    """Make `payment_method` (attached to `customer`) the Customer's default card."""
    params: stripe.params.CustomerUpdateParams = {
        "invoice_settings": {"default_payment_method": payment_method}
    }
    return write(
        "customer_default_payment_method_set",
        idempotency_key,
        lambda options: _core.stripe_client().v1.customers.update(customer, params, options),
        # Setting a value again under another key changes nothing more.
        nothing,
    )


def customer_email_update(*, customer: str, email: str, idempotency_key: str) -> dict:
    """The Customer's email (receipts), after the account's address changed."""
    params: stripe.params.CustomerUpdateParams = {"email": email}
    return write(
        "customer_email_update",
        idempotency_key,
        lambda options: _core.stripe_client().v1.customers.update(customer, params, options),
        nothing,
    )


def payment_intent_payment_method_set(
    *, payment_intent: str, payment_method: str, idempotency_key: str
) -> dict:
    """The saved card an intent not yet paid will be confirmed with (the pay page then
    confirms it without naming a card): the server, not the page, picks the card."""
    params: stripe.params.PaymentIntentUpdateParams = {"payment_method": payment_method}

    def chosen() -> dict | None:
        intent = payment_intent_retrieve(payment_intent=payment_intent)
        return intent if intent.get("payment_method") == payment_method else None

    return write(
        "payment_intent_payment_method_set",
        idempotency_key,
        lambda options: _core.stripe_client().v1.payment_intents.update(
            payment_intent, params, options
        ),
        chosen,
    )
