"""The end of a 3-D Secure challenge (the sandbox's challenge page buttons)."""

from __future__ import annotations

import contextlib

from ..errors import StripeError, unexpected_state
from ..sandbox import Ctx
from ..store import Obj
from . import payments
from .payment_intents import attempt


def finish_payment_intent(ctx: Ctx, intent_id: str, succeed: bool) -> Obj:
    """The 3-D Secure page's Complete / Fail button."""
    intent, pm = awaiting_challenge(
        ctx, "payment_intent", intent_id, "PaymentIntent", "payment_intent_unexpected_state"
    )
    if not succeed:
        return fail_challenge(
            ctx,
            intent,
            "last_payment_error",
            authentication_failure(pm),
            "payment_intent.payment_failed",
        )
    intent["_authenticated"] = True
    # A decline after authentication is recorded on the intent itself.
    with contextlib.suppress(StripeError):
        attempt(ctx, intent, pm, off_session=False)
    return intent


def awaiting_challenge(
    ctx: Ctx, kind: str, intent_id: str, label: str, code: str
) -> tuple[Obj, Obj]:
    """The Payment/SetupIntent whose challenge is being finished, and its
    payment method; the request then acts for the intent's account.

    The challenge page is not an API call, so an unknown id names ``intent``
    and an intent no longer waiting for authentication is a state error.
    """
    intent = ctx.store.get(intent_id, kind)
    if intent is None:
        raise StripeError(
            404,
            "invalid_request_error",
            f"No such {kind}: '{intent_id}'",
            code="resource_missing",
            param="intent",
        )
    ctx.account = intent.get("_account")
    if intent["status"] != "requires_action":
        raise unexpected_state(
            f"This {label} is not awaiting authentication (status {intent['status']}).",
            code=code,
        )
    pm = ctx.store.get(intent["payment_method"] or "", "payment_method")
    if pm is None:
        raise unexpected_state(f"This {label} has no payment method to authenticate.")
    return intent, pm


def fail_challenge(ctx: Ctx, intent: Obj, error_field: str, error: Obj, event_type: str) -> Obj:
    """The Fail button: the intent needs a new payment method, as on Stripe."""
    intent["status"] = "requires_payment_method"
    intent["next_action"] = None
    intent["payment_method"] = None
    intent[error_field] = error
    ctx.store.touch(intent)
    ctx.emit(event_type, intent)
    return intent


def authentication_failure(pm: Obj) -> Obj:
    return {
        "type": "invalid_request_error",
        "code": "payment_intent_authentication_failure",
        "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
        "message": "The provided PaymentMethod has failed authentication. You can provide "
        "payment_method_data or a new PaymentMethod to attempt to fulfill this "
        "PaymentIntent again.",
        "payment_method": payments.snapshot(pm),
    }
