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

from core.money import format_amount
from payments import gateway
from payments.models import Payment
from payments.services import stripe_reads
from payments.services.customers import buyer_saved_cards
from payments.services.intents import payment_sync

from . import selectors
from .cart import Cart
from .checkout import (
    CheckoutPayment,
    CheckoutPaymentError,
    CheckoutUnavailable,
    checkout_prepare,
)
from .models import Order
from .services import CheckoutError, checkout_create

logger = logging.getLogger(__name__)

PAID_STATUSES = selectors.PAID_PAYMENT_STATUSES


@login_required
def checkout_start(request):
    if request.method != "POST":
        # E.g. back from the login page: show the cart, with its Checkout button.
        return redirect("shop:cart")
    cart = Cart(request.session)
    items = [(line.product.pk, line.quantity) for line in cart.lines()]
    for notice in cart.notices:
        messages.warning(request, notice)
    if cart.notices:
        return redirect("shop:cart")  # let the buyer see what changed before paying
    try:
        checkout_id = checkout_create(buyer=request.user, items=items)
    except CheckoutError as exc:
        messages.error(request, str(exc))
        return redirect("shop:cart")
    cart.clear()
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


@login_required
@stripe_reads_limited
def checkout_pay(request, checkout_id):
    try:
        checkout = checkout_prepare(buyer=request.user, checkout_id=checkout_id, resync=True)
    except Order.DoesNotExist:
        raise Http404("No such checkout.") from None
    except CheckoutPaymentError as exc:
        # Unreachable (503, retry soon) or refused (502: Stripe's wording is logged,
        # the buyer gets plain words); the orders are kept either way.
        unreachable = isinstance(exc, CheckoutUnavailable)
        return render(
            request,
            "shop/checkout_unavailable.html",
            {"checkout_id": checkout_id, "unreachable": unreachable, "message": exc.user_message},
            status=503 if unreachable else 502,
        )
    if checkout.all_paid:
        return redirect("shop:checkout_done", checkout_id=checkout_id)
    return render(request, "shop/checkout_pay.html", _pay_page(request, checkout))


def _pay_page(request, checkout: CheckoutPayment) -> dict:
    """The pay page's context, with the configuration checkout.js reads."""
    config = {
        "publishableKey": settings.STRIPE_PUBLISHABLE_KEY,
        "intents": _intents_config(checkout),
        "email": request.user.email,
        "doneUrl": reverse("shop:checkout_done", kwargs={"checkout_id": checkout.checkout_id}),
        "messages": gateway.DECLINE_MESSAGES,
        "unreachable": gateway.GatewayUnavailable.user_message,
    }
    return {
        "payments": checkout.payments,
        "lines": checkout.lines,
        "total": checkout.amount_due,
        "currency": checkout.currency,
        "saved_cards": _saved_cards(request.user),
        "config": config,
        "stripe_js_url": settings.STRIPE_JS_URL,
    }


def _intents_config(checkout: CheckoutPayment) -> list[dict]:
    """The intents checkout.js confirms in order (skipping those Stripe has as done)."""
    intents = []
    due_after = 0
    for line in reversed(checkout.lines):
        # What the Pay button asks for once this intent is authorised (only the unpaid
        # intents after it are left).
        intents.append(
            {
                "clientSecret": line.client_secret,
                "status": line.intent_status,
                "seller": line.payment.order.seller.profile.name,
                "amount": line.payment.amount_display,
                "dueAfter": format_amount(due_after, checkout.currency) if due_after else None,
            }
        )
        if not line.paid:
            due_after += line.payment.amount
    return intents[::-1]


def _saved_cards(user) -> list:
    try:
        return buyer_saved_cards(user_id=user.pk)
    except gateway.GatewayError:
        return []  # paying with a new card still works


@login_required
@stripe_reads_limited
def checkout_done(request, checkout_id):
    """Where Stripe.js sends the buyer: read each intent back and show the outcome."""
    payments = _checkout_payments(request, checkout_id)
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
    return render(
        request,
        "shop/checkout_done.html",
        {
            "payments": payments,
            "all_paid": all(p.status in PAID_STATUSES for p in payments),
            "unreachable": unreachable,
            "checkout_id": checkout_id,
        },
    )


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
