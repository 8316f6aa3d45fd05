"""A buyer's saved cards: add one (a SetupIntent Stripe.js confirms), remove one,
choose the default.

Every change is checked here, on the server, whatever the page offered: the card must
be attached to this buyer's own Stripe Customer, and an expired card cannot become
the default. Each write to Stripe carries an idempotency key from the form that asked
for it (`attempt`, a token the page renders once), so a double click or a resent form
does it once, while choosing the same card again later is a new request.
"""

import re
import uuid

from payments import gateway
from payments.models import Payment
from payments.services.customers import buyer_customer_ensure, saved_card

from .models import User, UserProfile

# What a form's one-time token looks like (uuid4().hex): anything else is refused
# before it reaches an idempotency key.
ATTEMPT = re.compile(r"^[0-9a-f]{32}$")
PAYMENT_METHOD = re.compile(r"^pm_[A-Za-z0-9]{1,250}$")


class PaymentMethodError(Exception):
    """Why a card cannot be added, removed or chosen, in words for the buyer."""


NOT_YOURS = "That card is not one of your saved cards."


def _customer_of(user: User) -> str:
    profile = UserProfile.objects.filter(user=user).first()
    if profile is None or not profile.is_buyer:
        raise PaymentMethodError("Only buyer accounts save cards.")
    return profile.stripe_id if profile.stripe_id.startswith("cus_") else ""


def _checked_attempt(attempt: str) -> str:
    if not ATTEMPT.match(attempt or ""):
        raise PaymentMethodError("This form has expired: please try again.")
    return attempt


def card_add_start(*, user: User, attempt: str) -> dict:
    """The SetupIntent the "add a card" page confirms with Stripe.js; the buyer's
    Customer is created first if they have none yet. Returns {id, client_secret,
    status}; a status other than requires_payment_method means this form's card was
    saved already (the form was sent again)."""
    attempt = _checked_attempt(attempt)
    _customer_of(user)  # buyers only
    customer = buyer_customer_ensure(user_id=user.pk)
    intent = gateway.setup_intent_create(
        customer=customer, attempt=attempt, idempotency_key=f"user-{user.pk}-card-{attempt}"
    )
    return {
        "id": intent["id"],
        "client_secret": intent["client_secret"],
        "status": intent["status"],
    }


def card_owned(*, user: User, payment_method: str) -> dict:
    """The buyer's saved card `payment_method` (see `saved_card`); PaymentMethodError
    for a card that is not attached to their own Customer."""
    customer = _customer_of(user)
    if not customer or not PAYMENT_METHOD.match(payment_method or ""):
        raise PaymentMethodError(NOT_YOURS)
    try:
        method = gateway.payment_method_retrieve(payment_method=payment_method)
    except gateway.GatewayRejected:
        raise PaymentMethodError(NOT_YOURS) from None
    if method.get("customer") != customer:
        raise PaymentMethodError(NOT_YOURS)
    return saved_card(method)


def card_remove(*, user: User, payment_method: str) -> dict:
    """Detach the card from the buyer's Customer (Stripe then clears it as the default)."""
    card = card_owned(user=user, payment_method=payment_method)
    # A detached card cannot be attached again, so its id alone keys the request.
    gateway.payment_method_detach(
        payment_method=card["id"], idempotency_key=f"user-{user.pk}-detach-{card['id']}"
    )
    return card


def card_make_default(*, user: User, payment_method: str, attempt: str) -> dict:
    """Make the card the buyer's default (`invoice_settings.default_payment_method`),
    which checkout then preselects. An expired card is refused."""
    attempt = _checked_attempt(attempt)
    card = card_owned(user=user, payment_method=payment_method)
    if card["expired"]:
        raise PaymentMethodError(
            f"The card ending {card['last4']} has expired: choose another or add a new one."
        )
    gateway.customer_default_payment_method_set(
        customer=_customer_of(user),
        payment_method=card["id"],
        idempotency_key=f"user-{user.pk}-default-{attempt}",
    )
    return card


class CheckoutSettled(PaymentMethodError):
    """Stripe says the checkout's payment is past choosing a card (paid already)."""


def card_choose_for_checkout(
    *, user: User, checkout_id: str, payment_method: str, attempt: str
) -> dict:
    """Put the buyer's saved card on every intent of their checkout still to pay, so
    the pay page confirms them with this card and no other it might name. Refused for
    an expired card or a card not on the buyer's own Customer."""
    from shop.selectors import checkout_payment_list

    attempt = _checked_attempt(attempt)
    card = card_owned(user=user, payment_method=payment_method)
    if card["expired"]:
        raise PaymentMethodError(
            f"The card ending {card['last4']} has expired: choose another card or a new one."
        )
    try:
        checkout = uuid.UUID(checkout_id)
    except (TypeError, ValueError):
        raise PaymentMethodError("No such checkout.") from None
    unpaid = {Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION}
    intents = {
        payment.stripe_payment_intent_id: payment
        for payment in checkout_payment_list(buyer=user, checkout_id=checkout)
        if payment.stripe_payment_intent_id and payment.status in unpaid
    }
    if not intents:
        raise CheckoutSettled("This checkout has nothing left to pay.")
    for intent_id, payment in intents.items():
        try:
            gateway.payment_intent_payment_method_set(
                payment_intent=intent_id,
                payment_method=card["id"],
                idempotency_key=f"payment-{payment.pk}-card-{attempt}",
            )
        except gateway.GatewayRejected as exc:
            if exc.code == "payment_intent_unexpected_state":
                raise CheckoutSettled("This payment went through already.") from exc
            raise
    return card
