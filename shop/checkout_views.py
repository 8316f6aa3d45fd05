"""Checkout pages: create the orders, pay them with Stripe.js, show the outcome.

The server computes every amount; the browser only ever gets PaymentIntent client
secrets for orders it already owns, and the outcome is read back from Stripe.
"""

import logging
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from accounts.decorators import CHECKOUT_WHY, verified_email_required
from core.money import format_amount
from payments import gateway
from payments.models import Payment
from payments.services import stripe_reads
from payments.services.customers import buyer_card_preselected, buyer_saved_cards
from payments.services.intents import payment_sync

from . import pay_messages, selectors
from .cart import Cart
from .cart_checkout import cart_checkout, cart_settle
from .checkout import (
    CheckoutClosed,
    CheckoutPayment,
    CheckoutPaymentError,
    CheckoutUnavailable,
    PreparedPayment,
    checkout_prepare,
)
from .models import Order
from .services import CheckoutError
from .shipping import checkout_address_needed

logger = logging.getLogger(__name__)

PAID_STATUSES = selectors.PAID_PAYMENT_STATUSES


@login_required
@verified_email_required(CHECKOUT_WHY, back="shop:cart")
def checkout_start(request):
    """Checkout of the cart's lines in one currency (the `currency` field; needed only
    when the cart has several): back to the cart's open checkout when the lines are
    the same, else a new one in its place. The cart keeps its lines until they are paid.
    """
    if request.method != "POST":
        # E.g. back from the login page: show the cart, with its Checkout button.
        return redirect("shop:cart")
    cart = Cart(request.session)
    for notice in cart_settle(cart, request.user):
        messages.success(request, notice)
    currencies = [group.currency for group in cart.currency_groups()]
    for notice in cart.notices:
        messages.warning(request, notice)
    if cart.notices:
        return redirect("shop:cart")  # let the buyer see what changed before paying
    currency = request.POST.get("currency", "")
    if not currency and len(currencies) == 1:
        currency = currencies[0]
    if len(currencies) > 1 and currency not in currencies:
        messages.error(request, "Choose which items to pay: each currency is paid on its own.")
        return redirect("shop:cart")
    try:
        checkout_id = cart_checkout(cart, request.user, currency)
    except CheckoutError as exc:
        messages.error(request, str(exc))
        return redirect("shop:cart")
    return redirect("shop:checkout_pay", checkout_id=checkout_id)


def _checkout_payments(request, checkout_id) -> list[Payment]:
    """The buyer's payments for this checkout, newest per order; 404 for anyone else."""
    payments = selectors.checkout_payment_list(buyer=request.user, checkout_id=checkout_id)
    if not payments:
        raise Http404("No such checkout.")
    return payments


def stripe_reads_limited(view):
    """429 once the user loaded too many pages that may call Stripe this minute."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not stripe_reads.stripe_read_allowed(request.user.pk):
            return render(request, "shop/too_many_requests.html", status=429)
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@login_required
@stripe_reads_limited
def checkout_pay(request, checkout_id):
    """The pay page, for what is still due. It reads where the checkout stands first:
    paid goes to the confirmation, over (replaced, canceled) says so. Never cached,
    so Back after paying asks again rather than showing a stale form."""
    if checkout_address_needed(buyer=request.user, checkout_id=checkout_id):
        # Shipped goods: the intent is made with the address, so it comes first.
        return redirect("shop:checkout_shipping", checkout_id=checkout_id)
    try:
        checkout = checkout_prepare(buyer=request.user, checkout_id=checkout_id, resync=True)
    except Order.DoesNotExist:
        raise Http404("No such checkout.") from None
    except CheckoutClosed as exc:
        return render(request, "shop/checkout_closed.html", {"order": exc.order}, status=410)
    except CheckoutPaymentError as exc:
        # Unreachable (503, retry soon) or refused (502: Stripe's wording is logged,
        # the buyer gets plain words); the orders are kept either way.
        unreachable = isinstance(exc, CheckoutUnavailable)
        return render(
            request,
            "shop/checkout_unavailable.html",
            {
                "checkout_id": checkout_id,
                "unreachable": unreachable,
                "message": pay_messages.gateway_error_message(exc.error),
            },
            status=503 if unreachable else 502,
        )
    if checkout.all_paid:
        return redirect("shop:checkout_done", checkout_id=checkout_id)
    return render(request, "shop/checkout_pay.html", _pay_page(request, checkout))


def _pay_page(request, checkout: CheckoutPayment) -> dict:
    """The pay page's context, with the configuration checkout.js reads."""
    intents, intent_of_line = _intents_config(checkout)
    config = {
        "publishableKey": settings.STRIPE_PUBLISHABLE_KEY,
        "intents": intents,
        "email": request.user.email,
        "doneUrl": reverse("shop:checkout_done", kwargs={"checkout_id": checkout.checkout_id}),
        "messages": pay_messages.js_messages(),
        "unreachable": pay_messages.UNREACHABLE,
        # A saved card is checked and put on the intents by the server first.
        "checkoutId": str(checkout.checkout_id),
        "chooseCardUrl": reverse("accounts:payment_method_choose"),
    }
    saved_cards = _saved_cards(request.user)
    selectors.items_with_covers([payment.order for payment in checkout.payments])
    return {
        "saved_cards": saved_cards,
        "preselected_card": buyer_card_preselected(saved_cards),
        "payments": checkout.payments,
        "lines": checkout.lines,
        "rows": list(zip(checkout.lines, intent_of_line, strict=True)),
        "total": checkout.amount_due,
        "currency": checkout.currency,
        "config": config,
        "stripe_js_url": settings.STRIPE_JS_URL,
        "checkout_id": checkout.checkout_id,
    }


def _intents_config(checkout: CheckoutPayment) -> tuple[list[dict], list[int]]:
    """The intents checkout.js confirms in order, each once (skipping those Stripe has
    as done), and for each line the index of its intent: the orders of a checkout
    paid as one platform charge share one intent, confirmed once."""
    by_intent: dict[str, list[PreparedPayment]] = {}
    intent_of_line = []
    for line in checkout.lines:
        key = line.client_secret or f"payment-{line.payment.pk}"
        by_intent.setdefault(key, []).append(line)
        intent_of_line.append(list(by_intent).index(key))
    intents = []
    due_after = 0
    for lines in reversed(list(by_intent.values())):
        amount = sum(line.payment.amount for line in lines)
        # What the Pay button asks for once this intent is authorised (only the unpaid
        # intents after it are left).
        intents.append(
            {
                "clientSecret": lines[0].client_secret,
                "status": lines[0].intent_status,
                "seller": ", ".join(line.payment.order.seller.profile.name for line in lines),
                "amount": format_amount(amount, checkout.currency),
                "dueAfter": format_amount(due_after, checkout.currency) if due_after else None,
            }
        )
        if not lines[0].paid:
            due_after += amount
    return intents[::-1], intent_of_line


def _saved_cards(user) -> list:
    try:
        return buyer_saved_cards(user_id=user.pk)
    except gateway.GatewayError:
        return []  # paying with a new card still works


@never_cache
@login_required
@stripe_reads_limited
def checkout_done(request, checkout_id):
    """Where Stripe.js sends the buyer: read each intent back and show the outcome.
    Once everything is paid, the paid lines leave the cart."""
    payments = selectors.checkout_payment_list(buyer=request.user, checkout_id=checkout_id)
    if not payments:
        closed = selectors.checkout_closed(buyer=request.user, checkout_id=checkout_id)
        if closed is None:
            raise Http404("No such checkout.")
        return render(request, "shop/checkout_closed.html", {"order": closed}, status=410)
    unreachable = False
    for payment in payments:
        if payment.status in PAID_STATUSES:
            continue
        try:
            payment_sync(payment_id=payment.pk)
        except gateway.GatewayUnavailable:
            unreachable = True
    forget = request.GET.get("forget", "")
    if forget.startswith("pm_") and not unreachable:
        _forget_card(payments, forget, checkout_id)
    payments = _checkout_payments(request, checkout_id)
    all_paid = all(p.status in PAID_STATUSES for p in payments)
    cart = Cart(request.session)
    if all_paid:
        cart_settle(cart, request.user)
    return render(
        request,
        "shop/checkout_done.html",
        {
            "lines": [(p, _payment_problem(p)) for p in payments],
            "payments": payments,
            "all_paid": all_paid,
            "unreachable": unreachable,
            "checkout_id": checkout_id,
            # Lines in another currency wait for a checkout of their own.
            "cart_left": cart.count(),
        },
    )


def _payment_problem(payment: Payment) -> str:
    """Why the payment is not done yet, in our words ("" when nothing went wrong)."""
    if payment.status != Payment.Status.PENDING or not payment.last_error_code:
        return ""
    return pay_messages.card_message(payment.last_error_code, payment.last_error_code)


def _forget_card(payments: list[Payment], payment_method: str, checkout_id) -> None:
    """Detach a card Stripe attached to the buyer's Customer although they did not
    ask to save it (the PaymentIntent kept `setup_future_usage` from an earlier
    attempt with "Save this card" ticked). Only a card that paid this checkout.
    """
    try:
        intents = [
            gateway.payment_intent_retrieve(payment_intent=p.stripe_payment_intent_id)
            for p in payments
            if p.stripe_payment_intent_id
        ]
        if any(i.get("payment_method") == payment_method for i in intents):
            gateway.payment_method_detach(
                payment_method=payment_method, idempotency_key=f"checkout-{checkout_id}-forget"
            )
    except gateway.GatewayError as exc:
        # The payment itself is fine; the page must still show it.
        logger.warning("Could not detach %s: %s", payment_method, exc)
