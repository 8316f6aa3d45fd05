"""The words a buyer reads when paying goes wrong, for every error the pay page meets.

Stripe's own messages are written for developers ("You cannot confirm this
PaymentIntent because it has a status of requires_capture"); buyers read ours. The
same table serves the server (the confirmation page, the pay page's refusals) and
checkout.js (it gets the table in the page's configuration), so a decline reads the
same whichever way it is reported.
"""

from payments import gateway

# Card errors, by `decline_code` first, then by `code` (Stripe's error codes and
# decline codes, as listed in its documentation).
CARD_MESSAGES: dict[str, str] = {
    **gateway.DECLINE_MESSAGES,
    "card_declined": "Your card was declined.",
    "generic_decline": "Your card was declined.",
    "do_not_honor": "Your card was declined.",
    "fraudulent": "Your card was declined.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "pickup_card": "Your card was declined.",
    "restricted_card": "Your card was declined.",
    "security_violation": "Your card was declined.",
    "merchant_blacklist": "Your card was declined.",
    "transaction_not_allowed": "Your card does not allow this kind of payment.",
    "not_permitted": "Your card does not allow this kind of payment.",
    "service_not_allowed": "Your card does not allow this kind of payment.",
    "card_not_supported": "This card does not support this kind of payment. Try another card.",
    "currency_not_supported": "This card cannot pay in this currency. Try another card.",
    "call_issuer": "Your card was declined. Call your bank for details, or use another card.",
    "card_velocity_exceeded": "Your card was declined: it has reached its limit. Try another.",
    "withdrawal_count_limit_exceeded": "Your card has reached its limit. Try another card.",
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "This card has expired.",
    "incorrect_cvc": "The security code is incorrect.",
    "invalid_cvc": "The security code is invalid.",
    "incorrect_number": "The card number is incorrect.",
    "invalid_number": "The card number is invalid.",
    "invalid_expiry_month": "The expiry month is invalid.",
    "invalid_expiry_year": "The expiry year is invalid.",
    "incorrect_zip": "The postal code does not match your card.",
    "processing_error": "An error occurred while processing your card. Please try again.",
    "try_again_later": "Your bank could not approve this just now. Please try again.",
    "issuer_not_available": "Your bank could not be reached. Please try again.",
    "reenter_transaction": "Your bank could not approve this just now. Please try again.",
    "approve_with_id": "Your bank could not approve this just now. Please try again.",
    "duplicate_transaction": "Your bank refused a payment that looks like one you just made.",
    "testmode_decline": "This is a test card: it cannot pay for real.",
    "live_mode_test_card": "This is a test card: it cannot pay for real.",
    "authentication_required": "Your bank needs you to authenticate this payment. Try again.",
    "payment_intent_authentication_failure": (
        "We could not authenticate your card. Try again or use another card."
    ),
    "setup_intent_authentication_failure": (
        "We could not authenticate your card. Try again or use another card."
    ),
    "payment_method_unactivated": "This card is not activated yet. Try another card.",
    "payment_intent_payment_attempt_failed": "Your card was declined.",
    "payment_intent_payment_attempt_expired": "This payment attempt timed out. Please try again.",
}

# The card element's own checks (type `validation_error`), before anything leaves.
CARD_FORM_MESSAGES: dict[str, str] = {
    "incomplete_number": "Your card number is incomplete.",
    "invalid_number": "Your card number is invalid.",
    "incomplete_expiry": "Your card's expiration date is incomplete.",
    "invalid_expiry_month": "Your card's expiration date is invalid.",
    "invalid_expiry_month_past": "Your card's expiration date is in the past.",
    "invalid_expiry_year": "Your card's expiration year is invalid.",
    "invalid_expiry_year_past": "Your card's expiration year is in the past.",
    "incomplete_cvc": "Your card's security code is incomplete.",
    "invalid_cvc": "Your card's security code is invalid.",
    "incomplete_zip": "Your postal code is incomplete.",
}

ALREADY_PAID = "This order is already paid."
CHECKOUT_CLOSED = (
    "This checkout is no longer open: your cart changed, or it was canceled. "
    "Go back to your cart to check out again."
)
UNREACHABLE = gateway.GatewayUnavailable.user_message
BUSY = "The payment service is busy. Please wait a moment and try again."
SERVICE_ERROR = "The payment service had a problem. Nothing was charged: please try again."
GENERIC = "This payment could not be completed. Reload the page and try again."

# Errors that are not about the card, by Stripe's error `type` (or `code`).
OTHER_MESSAGES: dict[str, str] = {
    "api_connection_error": UNREACHABLE,
    "rate_limit_error": BUSY,
    "rate_limit": BUSY,
    "api_error": SERVICE_ERROR,
    "invalid_request_error": GENERIC,
    "authentication_error": GENERIC,
    "idempotency_error": GENERIC,
}

# What an "unexpected state" refusal means for the buyer, by the intent's status.
STATE_MESSAGES: dict[str, str] = {
    "requires_capture": ALREADY_PAID,
    "succeeded": ALREADY_PAID,
    "processing": ALREADY_PAID,
    "canceled": CHECKOUT_CLOSED,
}


def card_message(code: str, decline_code: str = "") -> str:
    """Our sentence for a card error's code and decline code."""
    return (
        CARD_MESSAGES.get(decline_code) or CARD_MESSAGES.get(code) or CARD_MESSAGES["card_declined"]
    )


def error_message(
    *, type: str = "", code: str = "", decline_code: str = "", intent_status: str = ""
) -> str:
    """Our sentence for any error Stripe (or Stripe.js) reports while paying."""
    if code == "payment_intent_unexpected_state":
        return STATE_MESSAGES.get(intent_status, GENERIC)
    if type == "validation_error":
        return CARD_FORM_MESSAGES.get(code, "Check your card details.")
    if type == "card_error" or code in CARD_MESSAGES or decline_code in CARD_MESSAGES:
        return card_message(code, decline_code)
    return OTHER_MESSAGES.get(code) or OTHER_MESSAGES.get(type) or GENERIC


def gateway_error_message(error: gateway.GatewayError) -> str:
    """Our sentence for an error the gateway raised while preparing or reading a payment."""
    if isinstance(error, gateway.RateLimited):
        return BUSY
    if isinstance(error, gateway.GatewayUnavailable):
        return UNREACHABLE
    if isinstance(error, gateway.CardDeclined):
        return card_message(error.code, error.decline_code)
    # A refusal of our own request (a missing account, a bad parameter): Stripe's
    # wording is logged by the caller; the buyer can only try again later.
    return gateway.GatewayError.user_message


def js_messages() -> dict[str, dict[str, str]]:
    """The tables checkout.js needs (it picks with the same rules as `error_message`)."""
    return {
        "card": CARD_MESSAGES,
        "form": CARD_FORM_MESSAGES,
        "other": OTHER_MESSAGES,
        "state": STATE_MESSAGES,
        "generic": {"message": GENERIC, "form": "Check your card details."},
    }
