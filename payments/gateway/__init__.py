"""The Stripe boundary: the only package in the project that imports `stripe`.

Small keyword-only functions, one per call the shop makes. Every write takes an
idempotency key derived from our own rows, so a retried task can never charge,
capture or refund twice; the gateway prefixes it per install and gets past a
500 that Stripe stored for it by checking what the write did (keys.py).
Connect reads pass `stripe_account`. Stripe's errors become our own exceptions
(errors.py). Results are plain dicts, so nothing outside the gateway depends on
the SDK's classes. Never call these inside an open database transaction or
while holding a row lock: they wait on the network.

Callers use `payments.gateway.<function>` only; the modules inside are how the
gateway is filed (buyers, payment_methods, connect, payouts, disputes, webhooks; _core
and keys are what they share).
"""

from __future__ import annotations

from ._core import client, reset_client
from .buyers import (
    charge_retrieve,
    customer_create,
    customer_payment_methods,
    payment_intent_cancel,
    payment_intent_capture,
    payment_intent_create,
    payment_intent_list,
    payment_intent_retrieve,
    payment_intent_shipping_update,
    payment_intent_update,
    payment_method_detach,
    platform_payment_intent_create,
    refund_create,
    refund_list,
)
from .connect import (
    account_create,
    account_debit_create,
    account_link_create,
    account_retrieve,
    account_update_custom,
    balance_retrieve,
    file_upload,
    transfer_create,
    transfer_list,
    transfer_reversal_create,
    transfer_reversal_retrieve,
)
from .disputes import (
    dispute_close,
    dispute_evidence_upload,
    dispute_funds_return,
    dispute_list,
    dispute_retrieve,
    dispute_transfer_reversal_made,
    dispute_transfer_reverse,
    dispute_update,
)
from .errors import (
    DECLINE_MESSAGES,
    CardDeclined,
    GatewayError,
    GatewayRejected,
    GatewayUnavailable,
    RateLimited,
    WebhookSignatureInvalid,
    decline_message,
)
from .payment_methods import (
    customer_default_payment_method_set,
    customer_email_update,
    customer_retrieve,
    payment_intent_payment_method_set,
    payment_method_retrieve,
    setup_intent_confirm,
    setup_intent_create,
    setup_intent_retrieve,
)
from .payouts import balance_pending_list, payout_create
from .version import PINNED_API_VERSION, api_version_problem
from .webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_list,
    webhook_endpoint_update,
    webhook_event_construct,
)

# The calls to Stripe, each named for what it does (what bench/checkout.py times).
CALLS = (
    customer_create,
    customer_payment_methods,
    payment_method_detach,
    payment_intent_create,
    platform_payment_intent_create,
    payment_intent_retrieve,
    payment_intent_list,
    payment_intent_shipping_update,
    payment_intent_update,
    payment_intent_capture,
    payment_intent_cancel,
    refund_create,
    refund_list,
    charge_retrieve,
    account_create,
    account_retrieve,
    account_link_create,
    account_update_custom,
    account_debit_create,
    transfer_create,
    transfer_list,
    transfer_reversal_create,
    transfer_reversal_retrieve,
    balance_retrieve,
    balance_pending_list,
    payout_create,
    file_upload,
    dispute_retrieve,
    dispute_list,
    dispute_update,
    dispute_close,
    dispute_evidence_upload,
    dispute_funds_return,
    dispute_transfer_reversal_made,
    dispute_transfer_reverse,
    webhook_event_construct,
    webhook_endpoint_list,
    webhook_endpoint_create,
    webhook_endpoint_update,
    webhook_endpoint_delete,
    setup_intent_create,
    setup_intent_confirm,
    setup_intent_retrieve,
    customer_retrieve,
    customer_default_payment_method_set,
    customer_email_update,
    payment_method_retrieve,
    payment_intent_payment_method_set,
)
# They present themselves as `payments.gateway.<name>`, where callers find them,
# whichever module files them (tools that list this module's functions, such as
# bench/checkout.py's timer, look for functions whose home is this module).
for _call in CALLS:
    _call.__module__ = __name__

__all__ = [
    "DECLINE_MESSAGES",
    "PINNED_API_VERSION",
    "CardDeclined",
    "GatewayError",
    "GatewayRejected",
    "GatewayUnavailable",
    "RateLimited",
    "WebhookSignatureInvalid",
    "api_version_problem",
    "client",
    "decline_message",
    "reset_client",
    *(call.__name__ for call in CALLS),
]
