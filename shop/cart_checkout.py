"""The cart and the checkouts it makes: one open checkout per cart and currency.

Checkout makes a checkout of the cart's lines in one currency and the session
remembers it (`Cart.checkout_link`). Until the cart changes, Checkout returns to it
(Back from the pay page, a declined card, another tab); a change replaces it: its
unpaid orders are canceled with their PaymentIntents and their stock. Once a
checkout has nothing left to pay, its paid lines leave the cart and the cart forgets
it (`cart_settle`). The web pages call these; the API has no cart.
"""

import uuid

from accounts.models import User

from . import selectors
from .cart import Cart
from .models import Order
from .services import checkout_cancel, checkout_create
from .stock import stock_held_for


def cart_settle(cart: Cart, buyer: User) -> list[str]:
    """Bring the cart in line with its checkouts: a checkout with nothing left to pay
    (paid, or canceled, abandoned, expired) is forgotten, and what it bought leaves
    the cart. Returns notices for the buyer."""
    notices = []
    for checkout_id in cart.checkouts().values():
        state = selectors.checkout_lines(buyer=buyer, checkout_id=checkout_id)
        if state.unpaid:
            continue
        cart.checkout_forget(checkout_id)
        if state.paid and cart.take_off(state.paid):
            notices.append("Your payment went through: the items you paid for left your cart.")
    return notices


def cart_changed(cart: Cart, buyer: User, currency: str) -> bool:
    """The lines in `currency` changed: their open checkout (if any) is replaced, so
    its unpaid orders are canceled, with their intents and stock. Returns whether one
    was. (Anonymous carts have no checkouts.)"""
    checkout_id = cart.checkout_for(currency)
    if checkout_id is None or not buyer.is_authenticated:
        return False
    canceled = checkout_cancel(
        buyer=buyer, checkout_id=checkout_id, reason=Order.CancelReason.REPLACED
    )
    cart_settle(cart, buyer)  # a part already paid leaves the cart; the rest is forgotten
    cart.checkout_forget(checkout_id)
    return bool(canceled)


def cart_held(cart: Cart, buyer: User) -> dict[int, int]:
    """{product id: n} the cart's own open checkouts took off the stock: the buyer may
    count them as theirs when the cart is checked against what is left."""
    if not buyer.is_authenticated:
        return {}
    checkouts = list(cart.checkouts().values())
    if not checkouts:
        return {}
    order_ids = Order.objects.filter(
        buyer=buyer,
        checkout_id__in=checkouts,
        status__in=selectors.PAYABLE_ORDER_STATUSES,
    ).values_list("pk", flat=True)
    return stock_held_for(order_ids)


def cart_checkout(cart: Cart, buyer: User, currency: str) -> uuid.UUID:
    """The checkout of the cart's lines in `currency`: the open one the cart made, when
    the lines are the same, else a new one replacing it. Raises CheckoutError."""
    items = [
        (line.product.pk, line.quantity)
        for group in cart.currency_groups()
        if group.currency == currency
        for line in group.lines
    ]
    checkout_id = checkout_create(
        buyer=buyer, items=items, replaces=cart.checkout_for(currency) if items else None
    )
    cart.checkout_link(currency, checkout_id)
    return checkout_id
