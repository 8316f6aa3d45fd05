"""The exceptions `payments.gateway` raises, and the words buyers see for declines.

Callers write `gateway.CardDeclined`: the package re-exports them.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of everything the gateway raises."""

    user_message = "The payment service returned an error. Please try again."


class CardDeclined(GatewayError):
    """The card was refused; `user_message` is safe and specific to show the buyer."""

    def __init__(self, code: str, user_message: str, *, decline_code: str = ""):
        super().__init__(f"{code}: {user_message}")
        self.code = code
        self.decline_code = decline_code
        self.user_message = user_message


class GatewayUnavailable(GatewayError):
    """Stripe could not be reached or is overloaded: retry later, with backoff.

    `server_error`: Stripe answered 5xx (rather than no answer, or a 429). Stripe
    stores a 5xx for the request's idempotency key like any other result, so a
    retry with that key gets the same 5xx again; `replayed` says this one was such
    a replay. The gateway uses both to get past a stored 500 (keys.py).
    """

    user_message = "Payment service is unreachable, please retry."

    def __init__(self, message: str = "", *, server_error: bool = False, replayed: bool = False):
        super().__init__(message)
        self.server_error = server_error
        self.replayed = replayed


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
