"""The Stripe boundary: the only module in the project that imports `stripe`.

Small keyword-only functions, one per call the shop makes. Every write takes an
idempotency key derived from our own rows, so a retried task can never charge,
capture or refund twice. Connect reads pass `stripe_account`. Stripe's errors
become our own exceptions. Results are plain dicts, so nothing outside this module
depends on the SDK's classes. Never call these inside an open database
transaction or while holding a row lock: they wait on the network.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import stripe
from django.conf import settings

from core.metrics import STRIPE_CALLS, STRIPE_LATENCY

logger = logging.getLogger(__name__)

# --- Our exceptions ----------------------------------------------------------


class GatewayError(Exception):
    """Base of everything this module raises."""

    user_message = "The payment service returned an error. Please try again."


class CardDeclined(GatewayError):
    """The card was refused; `user_message` is safe and specific to show the buyer."""

    def __init__(self, code: str, user_message: str, *, decline_code: str = ""):
        super().__init__(f"{code}: {user_message}")
        self.code = code
        self.decline_code = decline_code
        self.user_message = user_message


class GatewayUnavailable(GatewayError):
    """Stripe could not be reached or is overloaded: retry later, with backoff."""

    user_message = "Payment service is unreachable, please retry."


class RateLimited(GatewayUnavailable):
    """Stripe answered 429: slow down before the next call."""


class GatewayRejected(GatewayError):
    """Stripe refused the request itself (bad parameters, wrong state, unknown id)."""

    def __init__(self, message: str, *, code: str = "", param: str = "", status: int = 0):
        super().__init__(message)
        self.code = code
        self.param = param
        self.http_status = status  # as Stripe's own errors name it
        self.user_message = message


class WebhookSignatureInvalid(GatewayError):
    """A webhook body whose signature, timestamp or JSON does not check out."""


# How /metrics names each outcome of a Stripe call.
_OUTCOMES: dict[type[GatewayError], str] = {
    CardDeclined: "declined",
    RateLimited: "rate_limited",
    GatewayUnavailable: "unavailable",
    GatewayRejected: "rejected",
}

# Messages buyers see, by Stripe's decline code or error code.
DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "This card has expired.",
    "incorrect_cvc": "The security code is incorrect.",
    "invalid_cvc": "The security code is invalid.",
    "incorrect_number": "The card number is incorrect.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "processing_error": "An error occurred while processing your card. Please try again.",
    "authentication_required": "Your bank needs you to authenticate this payment.",
    "payment_intent_authentication_failure": (
        "We could not authenticate your card. Try again or use another card."
    ),
    "card_declined": "Your card was declined.",
}


def decline_message(code: str, decline_code: str = "") -> str:
    """The sentence we show a buyer for a Stripe card error."""
    return (
        DECLINE_MESSAGES.get(decline_code)
        or DECLINE_MESSAGES.get(code)
        or DECLINE_MESSAGES["card_declined"]
    )


# --- The client ----------------------------------------------------------------


@functools.cache
def client() -> stripe.StripeClient:
    """One StripeClient per process, built from settings (cached; reset in tests)."""
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        stripe_version=settings.STRIPE_API_VERSION,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        # Unset means real Stripe; otherwise every API family goes to the sandbox.
        base_addresses={"api": base, "files": base, "connect": base} if base else {},
    )


def reset_client() -> None:
    """Forget the cached client (settings changed, e.g. in a test)."""
    client.cache_clear()


@contextmanager
def _translated_errors(operation: str) -> Iterator[None]:
    """Turn Stripe's exceptions into ours, keeping the cause for the logs; count the
    call and its time by operation and outcome (/metrics)."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except stripe.StripeError as exc:
        translated = _translated(exc)
        outcome = _OUTCOMES[type(translated)]
        logger.info("Stripe %s: %s (request %s)", operation, outcome, exc.request_id or "?")
        raise translated from exc
    except Exception:
        outcome = "error"
        raise
    finally:
        STRIPE_CALLS.labels(operation, outcome).inc()
        STRIPE_LATENCY.labels(operation).observe(time.perf_counter() - started)


def _translated(exc: stripe.StripeError) -> GatewayError:
    """Our exception for one of Stripe's."""
    if isinstance(exc, stripe.CardError):
        error = exc.error
        code = (error.code if error else None) or exc.code or "card_declined"
        decline_code = (error.decline_code if error else None) or ""
        return CardDeclined(code, decline_message(code, decline_code), decline_code=decline_code)
    if isinstance(exc, stripe.RateLimitError):
        return RateLimited(str(exc))
    # No connection, or Stripe's own 5xx: may be retried with the same idempotency key.
    if isinstance(exc, stripe.APIConnectionError | stripe.APIError) or (
        exc.http_status and exc.http_status >= 500
    ):
        return GatewayUnavailable(str(exc))
    error = exc.error
    return GatewayRejected(
        (error.message if error else None) or str(exc),
        code=(error.code if error else None) or exc.code or "",
        param=(error.param if error else None) or "",
        status=exc.http_status or 0,
    )


def _plain(result: Any) -> dict[str, Any]:
    # Stripe's request id beside ours (the log filter adds it): one line leads from a
    # web request or task to the call in Stripe's dashboard.
    last = getattr(result, "last_response", None)
    logger.info(
        "Stripe %s %s (request %s)",
        getattr(result, "object", "?"),
        getattr(result, "id", "?"),
        getattr(last, "request_id", None) or "?",
    )
    return result.to_dict()


def _write_options(idempotency_key: str, account: str | None = None) -> stripe.RequestOptions:
    if not idempotency_key:
        raise ValueError("every write to Stripe needs an idempotency key")
    options: stripe.RequestOptions = {"idempotency_key": idempotency_key}
    if account:
        options["stripe_account"] = account
    return options


def _read_options(account: str | None = None) -> stripe.RequestOptions:
    return {"stripe_account": account} if account else {}


# --- Customers and cards ----------------------------------------------------------


def customer_create(*, email: str, name: str, user_id: int, idempotency_key: str) -> dict:
    with _translated_errors("customer_create"):
        result = client().v1.customers.create(
            {"email": email, "name": name, "metadata": {"user_id": str(user_id)}},
            _write_options(idempotency_key),
        )
    return _plain(result)


def customer_payment_methods(*, customer: str) -> list[dict]:
    """The customer's saved cards, newest first."""
    with _translated_errors("customer_payment_methods"):
        listing = _plain(
            client().v1.customers.payment_methods.list(customer, {"type": "card", "limit": 20})
        )
    return listing["data"]


def payment_method_detach(*, payment_method: str, idempotency_key: str) -> dict:
    with _translated_errors("payment_method_detach"):
        result = client().v1.payment_methods.detach(
            payment_method,
            None,
            _write_options(idempotency_key),
        )
    return _plain(result)


# --- PaymentIntents ------------------------------------------------------------------


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
) -> dict:
    """A destination charge authorised now and captured on fulfilment."""
    with _translated_errors("payment_intent_create"):
        result = client().v1.payment_intents.create(
            {
                "amount": amount,
                "currency": currency,
                "customer": customer,
                "capture_method": "manual",
                "allowed_payment_method_types": ["card"],
                "application_fee_amount": application_fee_amount,
                "transfer_data": {"destination": destination},
                "metadata": {"order_id": str(order_id), "order_public_id": order_public_id},
                "description": f"Order {order_public_id}",
            },
            _write_options(idempotency_key),
        )
    return _plain(result)


def payment_intent_retrieve(*, payment_intent: str, expand_charge: bool = False) -> dict:
    """The intent; with `expand_charge`, its latest charge as an object (for reconciliation)."""
    params: stripe.params.PaymentIntentRetrieveParams = (
        {"expand": ["latest_charge"]} if expand_charge else {}
    )
    with _translated_errors("payment_intent_retrieve"):
        result = client().v1.payment_intents.retrieve(payment_intent, params)
    return _plain(result)


def payment_intent_list(*, created_gte: int, starting_after: str = "") -> dict:
    """One page (100) of PaymentIntents created since `created_gte` (Unix time)."""
    params: stripe.params.PaymentIntentListParams = {
        "limit": 100,
        "created": {"gte": created_gte},
    }
    if starting_after:
        params["starting_after"] = starting_after
    with _translated_errors("payment_intent_list"):
        return _plain(client().v1.payment_intents.list(params))


def transfer_reversal_retrieve(*, transfer: str, reversal: str) -> dict:
    with _translated_errors("transfer_reversal_retrieve"):
        result = client().v1.transfers.reversals.retrieve(transfer, reversal)
    return _plain(result)


def payment_intent_capture(
    *, payment_intent: str, idempotency_key: str, amount_to_capture: int | None = None
) -> dict:
    params: stripe.params.PaymentIntentCaptureParams = {}
    if amount_to_capture is not None:
        params["amount_to_capture"] = amount_to_capture
    with _translated_errors("payment_intent_capture"):
        result = client().v1.payment_intents.capture(
            payment_intent,
            params,
            _write_options(idempotency_key),
        )
    return _plain(result)


def payment_intent_cancel(*, payment_intent: str, idempotency_key: str, reason: str) -> dict:
    """Release an authorisation. `reason`: abandoned, requested_by_customer, duplicate…"""
    params: stripe.params.PaymentIntentCancelParams = {"cancellation_reason": reason}
    with _translated_errors("payment_intent_cancel"):
        result = client().v1.payment_intents.cancel(
            payment_intent,
            params,
            _write_options(idempotency_key),
        )
    return _plain(result)


# --- Refunds -----------------------------------------------------------------------


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
    params: stripe.params.RefundCreateParams = {
        "payment_intent": payment_intent,
        "amount": amount,
        "reverse_transfer": reverse_transfer,
        "refund_application_fee": refund_application_fee,
        "metadata": {"refund_id": str(refund_id)},
    }
    if reason:
        params["reason"] = reason
    with _translated_errors("refund_create"):
        result = client().v1.refunds.create(params, _write_options(idempotency_key))
    return _plain(result)


def refund_list(*, payment_intent: str) -> list[dict]:
    with _translated_errors("refund_list"):
        listing = _plain(client().v1.refunds.list({"payment_intent": payment_intent, "limit": 100}))
    return listing["data"]


def charge_retrieve(*, charge: str) -> dict:
    with _translated_errors("charge_retrieve"):
        result = client().v1.charges.retrieve(charge)
    return _plain(result)


# --- Connect ------------------------------------------------------------------------


def account_create(
    *, email: str, user_id: int, account_type: str, country: str, idempotency_key: str
) -> dict:
    with _translated_errors("account_create"):
        result = client().v1.accounts.create(
            {
                "type": account_type,
                "country": country,
                "email": email,
                "capabilities": {
                    "card_payments": {"requested": True},
                    "transfers": {"requested": True},
                },
                "metadata": {"user_id": str(user_id)},
            },
            _write_options(idempotency_key),
        )
    return _plain(result)


def account_retrieve(*, account: str) -> dict:
    with _translated_errors("account_retrieve"):
        result = client().v1.accounts.retrieve(account)
    return _plain(result)


def account_link_create(
    *, account: str, refresh_url: str, return_url: str, idempotency_key: str
) -> dict:
    with _translated_errors("account_link_create"):
        result = client().v1.account_links.create(
            {
                "account": account,
                "refresh_url": refresh_url,
                "return_url": return_url,
                "type": "account_onboarding",
            },
            _write_options(idempotency_key),
        )
    return _plain(result)


def account_update_custom(
    *,
    account: str,
    individual: stripe.params.AccountUpdateParamsIndividual,
    tos_date: int,
    tos_ip: str,
    idempotency_key: str,
) -> dict:
    """Our own onboarding form: the person's details and the ToS acceptance."""
    with _translated_errors("account_update_custom"):
        result = client().v1.accounts.update(
            account,
            {
                "business_type": "individual",
                "individual": individual,
                "tos_acceptance": {"date": tos_date, "ip": tos_ip},
            },
            _write_options(idempotency_key),
        )
    return _plain(result)


def account_debit_create(
    *, account: str, amount: int, currency: str, debit_id: int, reason: str, idempotency_key: str
) -> dict:
    """Take money from a connected account's balance to the platform (an account debit)."""
    with _translated_errors("account_debit_create"):
        result = client().v1.charges.create(
            {
                "amount": amount,
                "currency": currency,
                "source": account,
                "description": reason[:350],
                "metadata": {"debit_id": str(debit_id)},
            },
            _write_options(idempotency_key),
        )
    return _plain(result)


def transfer_reversal_create(
    *, transfer: str, amount: int, debit_id: int, idempotency_key: str
) -> dict:
    """Claw back part of a transfer already made to a connected account."""
    with _translated_errors("transfer_reversal_create"):
        result = client().v1.transfers.reversals.create(
            transfer,
            {"amount": amount, "metadata": {"debit_id": str(debit_id)}},
            _write_options(idempotency_key),
        )
    return _plain(result)


def balance_retrieve(*, account: str | None = None) -> dict:
    """The platform's balance, or a connected account's with `account`."""
    with _translated_errors("balance_retrieve"):
        result = client().v1.balance.retrieve(None, _read_options(account))
    return _plain(result)


def file_upload(*, file: BinaryIO, filename: str, account: str, idempotency_key: str) -> dict:
    """Upload a connected account's identity document through Stripe's Files API.

    Stripe wants one multipart file part named `file`, whose filename the SDK takes
    from the object's `name` (a `(filename, file)` tuple is sent as two parts,
    `file[0]` and `file[1]`, and refused). The file belongs to the connected account
    (`Stripe-Account`), as Stripe's guide to verifying connected accounts says: a
    platform file cannot be used in the account's verification.
    """
    upload = io.BytesIO(file.read())
    upload.name = filename
    with _translated_errors("file_upload"):
        result = client().v1.files.create(
            {"purpose": "identity_document", "file": upload},
            _write_options(idempotency_key, account),
        )
    return _plain(result)


# --- Webhooks -----------------------------------------------------------------------


def webhook_event_construct(*, payload: bytes, signature: str, secret: str) -> dict:
    """Verify a webhook's signature (300 s tolerance) and parse it, or raise.

    The SDK checks the signature; the body is then parsed as plain JSON rather than
    built into SDK objects and converted back, which was a quarter of the ingest
    view's CPU time (bench/README.md).
    """
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, secret, tolerance=300
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise WebhookSignatureInvalid(str(exc)) from exc
    except RecursionError as exc:
        # A validly signed body nested thousands deep: Python's parser gives up.
        raise WebhookSignatureInvalid("The body is nested too deeply to be an event.") from exc
    if not isinstance(event, dict):
        raise WebhookSignatureInvalid("The body is not a JSON object.")
    return event
