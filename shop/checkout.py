"""Checkout payments: get a checkout's PaymentIntents ready for the buyer to confirm.

The pay page and the API call these services and only turn the result, or the
refusal, into their own answer (an HTML page, JSON). Stripe is called outside any
transaction: `payment_intents_ensure` reads our rows first and records the intents
after, with idempotency keys from our own Payment rows.
"""

import logging
import uuid
from dataclasses import dataclass

from accounts.models import User
from payments import gateway
from payments.models import Payment
from payments.services import stripe_reads
from payments.services.customers import saved_cards_read_alongside
from payments.services.intents import payment_intents_ensure

from .models import Order
from .selectors import (
    PAID_PAYMENT_STATUSES,
    checkout_closed,
    checkout_payment_list,
    order_is_payable,
    order_payment,
)
from .shipping import ShippingAddressNeeded

logger = logging.getLogger(__name__)

# PaymentIntent statuses the buyer does not confirm again (checkout.js's DONE).
INTENT_DONE_STATUSES = frozenset({"requires_capture", "succeeded", "processing"})


class CheckoutPaymentError(Exception):
    """Stripe could not prepare the payments. The orders (and any intents already
    made) are kept, so the buyer can pay later; `user_message` is fit to show."""

    user_message = gateway.GatewayError.user_message

    def __init__(
        self, *, checkout_id: uuid.UUID, payments: list[Payment], error: gateway.GatewayError
    ):
        super().__init__(str(error))
        self.checkout_id = checkout_id
        self.payments = payments
        self.error = error


class CheckoutUnavailable(CheckoutPaymentError):
    """Stripe could not be reached or was overloaded: retrying in a moment may work."""

    user_message = gateway.GatewayUnavailable.user_message


class CheckoutRefused(CheckoutPaymentError):
    """Stripe refused our request. Its wording is for us (logged), not for the buyer."""


class CheckoutClosed(Exception):
    """Every order of the checkout is over (canceled, replaced, abandoned, expired):
    there is nothing to pay here; `order` is one of them."""

    def __init__(self, order: Order):
        super().__init__(f"Checkout {order.checkout_id} is closed.")
        self.order = order


class NothingToPay(Exception):
    """The order is not awaiting payment; the message says what it is instead."""

    def __init__(self, order: Order):
        status = order.get_status_display().lower()
        super().__init__(f"This order has nothing left to pay: it is {status}.")
        self.order = order


@dataclass(frozen=True)
class PreparedPayment:
    """One order's current payment, as the buyer's browser needs it."""

    payment: Payment
    client_secret: str | None  # None: Stripe was not asked (paid in our database)
    intent_status: str  # the PaymentIntent's status at Stripe ("" when not asked)
    paid: bool  # authorised or captured: by Stripe's word when it was asked


@dataclass(frozen=True)
class CheckoutPayment:
    """A checkout ready to pay: one line per order, in order."""

    checkout_id: uuid.UUID
    lines: list[PreparedPayment]

    @property
    def payments(self) -> list[Payment]:
        return [line.payment for line in self.lines]

    @property
    def due(self) -> list[PreparedPayment]:
        """The lines the buyer still has to pay."""
        return [line for line in self.lines if not line.paid]

    @property
    def paid(self) -> list[PreparedPayment]:
        """The lines already paid (authorised or captured)."""
        return [line for line in self.lines if line.paid]

    @property
    def all_paid(self) -> bool:
        return not self.due

    @property
    def currency(self) -> str:
        return self.lines[0].payment.currency

    @property
    def amount_due(self) -> int:
        """What is left to pay, minor units of `currency`."""
        return sum(line.payment.amount for line in self.due)

    @property
    def client_secrets(self) -> dict[int, str]:
        """{payment id: client secret} for the payments still due (the orders of a
        checkout paid as one platform charge share one)."""
        return {line.payment.pk: line.client_secret for line in self.due if line.client_secret}

    @property
    def intents(self) -> list["PreparedIntent"]:
        """The PaymentIntents behind the lines, each once, in the order of its first
        line: what the buyer confirms. A checkout of several contractors' orders is
        one intent (one authentication) for all of them."""
        by_intent: dict[str, list[PreparedPayment]] = {}
        for line in self.lines:
            key = line.client_secret or f"paid:{line.payment.pk}"
            by_intent.setdefault(key, []).append(line)
        return [PreparedIntent(lines=lines) for lines in by_intent.values()]


@dataclass(frozen=True)
class PreparedIntent:
    """One PaymentIntent to confirm, with the checkout's lines it pays."""

    lines: list[PreparedPayment]

    @property
    def client_secret(self) -> str | None:
        return self.lines[0].client_secret

    @property
    def intent_status(self) -> str:
        return self.lines[0].intent_status

    @property
    def paid(self) -> bool:
        return self.lines[0].paid

    @property
    def amount(self) -> int:
        """What confirming it pays, minor units (every line's amount)."""
        return sum(line.payment.amount for line in self.lines)


def checkout_prepare(
    *, buyer: User, checkout_id: uuid.UUID, resync: bool = False
) -> CheckoutPayment:
    """The buyer's checkout, ready to pay: each order's current payment with its
    PaymentIntent's client secret (created at Stripe the first time, side by side).

    When our database already has every payment paid, Stripe is not asked. Otherwise
    Stripe knows first: a payment authorised a moment ago may not have reached our
    database yet (webhook in flight), so a line's `paid` comes from its intent.
    `resync`: the buyer is on the pay page, about to try again, so the return page
    that follows must read Stripe again (`stripe_reads.sync_allow`); the buyer's
    saved cards are read alongside (payments.services.customers.buyer_saved_cards
    answers from that read).

    A checkout of several contractors' orders is one PaymentIntent for all of them
    (payments/services/groups.py): its lines share one client secret, to confirm
    once (`CheckoutPayment.intents`).

    Orders that are over (canceled, expired) are left out. Raises Order.DoesNotExist
    for a checkout that is not the buyer's, CheckoutClosed for one that is over, and
    CheckoutUnavailable / CheckoutRefused when Stripe cannot be reached / refuses.
    """
    payments = checkout_payment_list(buyer=buyer, checkout_id=checkout_id)
    if not payments:
        closed = checkout_closed(buyer=buyer, checkout_id=checkout_id)
        if closed is not None:
            raise CheckoutClosed(closed)
        raise Order.DoesNotExist("No such checkout.")
    if all(payment.status in PAID_PAYMENT_STATUSES for payment in payments):
        lines = [_paid_line(payment) for payment in payments]
        return CheckoutPayment(checkout_id=checkout_id, lines=lines)
    if resync:
        stripe_reads.sync_allow([payment.pk for payment in payments])
        # The pay page shows the buyer's saved cards too: read side by side.
        with saved_cards_read_alongside(user_id=buyer.pk):
            lines = _prepare(checkout_id, payments)
        return CheckoutPayment(checkout_id=checkout_id, lines=lines)
    return CheckoutPayment(checkout_id=checkout_id, lines=_prepare(checkout_id, payments))


def order_payment_prepare(*, order: Order) -> PreparedPayment:
    """One order's current payment with its PaymentIntent's client secret (created at
    Stripe the first time), to pay the order on its own.

    `order` is one of the buyer's, loaded by a selector with its payments. Raises
    NothingToPay when the order is not awaiting payment, and CheckoutUnavailable /
    CheckoutRefused when Stripe cannot be reached / refuses.
    """
    payment = order_payment(order)
    if payment is None or not order_is_payable(order, payment):
        raise NothingToPay(order)
    [line] = _prepare(order.checkout_id, [payment])
    return line


def _paid_line(payment: Payment) -> PreparedPayment:
    return PreparedPayment(payment=payment, client_secret=None, intent_status="", paid=True)


def _prepare(checkout_id: uuid.UUID, payments: list[Payment]) -> list[PreparedPayment]:
    """Ensure the payments' intents at Stripe; gateway errors become ours."""
    if any(not p.stripe_payment_intent_id and p.order.shipping_missing for p in payments):
        raise ShippingAddressNeeded()  # the intent carries the address: it comes first
    try:
        intents = payment_intents_ensure(payment_ids=[payment.pk for payment in payments])
    except gateway.GatewayUnavailable as exc:
        logger.warning("Stripe unreachable while preparing checkout %s", checkout_id)
        raise CheckoutUnavailable(checkout_id=checkout_id, payments=payments, error=exc) from exc
    except gateway.GatewayError as exc:
        logger.warning("Stripe refused a PaymentIntent for checkout %s: %s", checkout_id, exc)
        raise CheckoutRefused(checkout_id=checkout_id, payments=payments, error=exc) from exc
    return [
        PreparedPayment(
            payment=payment,
            client_secret=intent["client_secret"],
            intent_status=intent.get("status", ""),
            paid=intent.get("status") in INTENT_DONE_STATUSES,
        )
        for payment, intent in zip(payments, intents, strict=True)
    ]
