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
from payments.services.intents import payment_intents_ensure, payment_sync

from .cart import Cart
from .models import Order
from .services import CheckoutError, checkout_create

logger = logging.getLogger(__name__)

PAID_STATUSES = {Payment.Status.AUTHORIZED, Payment.Status.CAPTURED}
# PaymentIntent statuses the page does not confirm again (checkout.js's DONE).
INTENT_DONE_STATUSES = {"requires_capture", "succeeded", "processing"}


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
    orders = Order.objects.filter(checkout_id=checkout_id, buyer=request.user)
    payments = list(
        Payment.objects.filter(order__in=orders)
        .select_related("order__seller__profile")
        .order_by("order_id", "-created_at")
    )
    if not payments:
        raise Http404("No such checkout.")
    latest: dict[int, Payment] = {}
    for payment in payments:
        latest.setdefault(payment.order_id, payment)
    return list(latest.values())


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
    payments = _checkout_payments(request, checkout_id)
    if all(p.status in PAID_STATUSES for p in payments):
        return redirect("shop:checkout_done", checkout_id=checkout_id)
    stripe_reads.sync_allow([payment.pk for payment in payments])
    try:
        made = payment_intents_ensure(payment_ids=[payment.pk for payment in payments])
    except gateway.GatewayUnavailable:
        logger.warning("Stripe unreachable while preparing checkout %s", checkout_id)
        return render(
            request,
            "shop/checkout_unavailable.html",
            {"checkout_id": checkout_id, "payments": payments},
            status=503,
        )
    intents = [
        {
            "clientSecret": intent["client_secret"],
            "status": intent["status"],
            "seller": payment.order.seller.profile.name,
            "amount": payment.amount_display,
        }
        for payment, intent in zip(payments, made, strict=True)
    ]
    # Stripe knows first: a payment authorised a moment ago may not have reached
    # our database yet (webhook in flight). Only what is still due is paid here.
    paid = [intent["status"] in INTENT_DONE_STATUSES for intent in intents]
    if all(paid):
        return redirect("shop:checkout_done", checkout_id=checkout_id)
    currency = payments[0].currency
    due_after = 0
    for payment, intent, done in reversed(list(zip(payments, intents, paid, strict=True))):
        # What the Pay button asks for once this intent is authorised (checkout.js
        # confirms in order, so only the unpaid intents after it are left).
        intent["dueAfter"] = format_amount(due_after, currency) if due_after else None
        if not done:
            due_after += payment.amount
    total = due_after
    try:
        saved_cards = buyer_saved_cards(user_id=request.user.pk)
    except gateway.GatewayError:
        saved_cards = []  # paying with a new card still works
    config = {
        "publishableKey": settings.STRIPE_PUBLISHABLE_KEY,
        "intents": intents,
        "email": request.user.email,
        "doneUrl": reverse("shop:checkout_done", kwargs={"checkout_id": checkout_id}),
        "messages": gateway.DECLINE_MESSAGES,
        "unreachable": gateway.GatewayUnavailable.user_message,
    }
    return render(
        request,
        "shop/checkout_pay.html",
        {
            "payments": payments,
            "lines": [{"payment": p, "paid": done} for p, done in zip(payments, paid, strict=True)],
            "total": total,
            "currency": currency,
            "saved_cards": saved_cards,
            "config": config,
            "stripe_js_url": settings.STRIPE_JS_URL,
        },
    )


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
