"""The buyer's "Payment methods" pages: saved cards, add one, remove one, the default.

Thin: each view checks the request, calls accounts.payment_methods, and shows the
outcome as a message. Stripe being unreachable or refusing is a message on the page
(503 when the list cannot be shown), never an error page.
"""

import logging
import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from payments import gateway
from payments.services import stripe_reads
from payments.services.customers import buyer_saved_cards
from shop import pay_messages

from .payment_methods import (
    CheckoutSettled,
    PaymentMethodError,
    card_add_start,
    card_choose_for_checkout,
    card_make_default,
    card_owned,
    card_remove,
)
from .selectors import email_verified

logger = logging.getLogger(__name__)

LIST = "accounts:payment_methods"


def buyer_only(view):
    """Logged-in buyers only: a contractor or staff account has no cards to keep."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        profile = getattr(request.user, "profile", None)
        if profile is None or not profile.is_buyer:
            messages.info(request, "Only buyer accounts keep payment cards.")
            return redirect("accounts:profile")
        return view(request, *args, **kwargs)

    return wrapper


def _stripe_reads_limited(request) -> bool:
    return stripe_reads.stripe_read_allowed(request.user.pk)


def _failure(request, exc: Exception) -> None:
    if isinstance(exc, PaymentMethodError):
        messages.error(request, str(exc))
    elif isinstance(exc, gateway.GatewayError):
        logger.info("Saved cards: Stripe said %s", exc)
        messages.error(request, pay_messages.gateway_error_message(exc))
    else:  # pragma: no cover - the callers pass only these
        raise exc


@never_cache
@buyer_only
def payment_methods(request):
    """The buyer's saved cards (read from Stripe, at a bounded rate per person)."""
    context = {"attempt": uuid.uuid4().hex, "cards": [], "unavailable": ""}
    status = 200
    if not _stripe_reads_limited(request):
        context["unavailable"] = "Too many requests: please wait a minute and reload."
        status = 429
    else:
        try:
            context["cards"] = buyer_saved_cards(user_id=request.user.pk)
        except gateway.GatewayError as exc:
            context["unavailable"] = pay_messages.gateway_error_message(exc)
            status = 503
    return render(request, "accounts/payment_methods.html", context, status=status)


@never_cache
@buyer_only
def payment_method_add(request):
    """POST (the list page's "Add a card" form): a SetupIntent for a new card and the
    page that confirms it with Stripe.js. Sent again (reload, double click), the
    form's token gives back the same SetupIntent."""
    if request.method != "POST":
        return redirect(LIST)
    if not email_verified(request.user):
        messages.warning(request, "Please confirm your email address before saving a card.")
        return redirect(reverse("accounts:email_verify") + "?next=" + reverse(LIST))
    try:
        intent = card_add_start(user=request.user, attempt=request.POST.get("attempt", ""))
    except (PaymentMethodError, gateway.GatewayError) as exc:
        _failure(request, exc)
        return redirect(LIST)
    if intent["status"] != "requires_payment_method":
        return redirect(reverse("accounts:payment_method_added") + f"?setup_intent={intent['id']}")
    config = {
        "publishableKey": settings.STRIPE_PUBLISHABLE_KEY,
        "clientSecret": intent["client_secret"],
        "email": request.user.email,
        "returnUrl": reverse("accounts:payment_method_added"),
        "messages": pay_messages.js_messages(),
        "unreachable": pay_messages.UNREACHABLE,
    }
    return render(
        request,
        "accounts/payment_method_add.html",
        {"config": config, "stripe_js_url": settings.STRIPE_JS_URL},
    )


@never_cache
@buyer_only
def payment_method_added(request):
    """Where the add page sends the buyer: the SetupIntent, read back from Stripe, says
    whether the card was saved (only the buyer's own intents are looked at)."""
    intent_id = request.GET.get("setup_intent", "")
    if not intent_id.startswith("seti_") or not _stripe_reads_limited(request):
        return redirect(LIST)
    try:
        intent = gateway.setup_intent_retrieve(setup_intent=intent_id)
    except gateway.GatewayError as exc:
        if not isinstance(exc, gateway.GatewayRejected):
            _failure(request, exc)
        return redirect(LIST)
    if intent.get("customer") != request.user.profile.stripe_id:
        return redirect(LIST)
    if intent["status"] == "succeeded":
        messages.success(request, "Your card is saved.")
    elif intent["status"] in ("requires_action", "processing"):
        messages.info(request, "Your bank is still checking the card: reload in a moment.")
    else:
        messages.error(request, "The card was not saved. Please try again.")
    return redirect(LIST)


@never_cache
@require_http_methods(["GET", "POST"])
@buyer_only
def payment_method_remove(request):
    """GET: ask first (a detached card cannot be attached again; works without
    JavaScript). POST, the page's answer: detach the card (it must be the buyer's)."""
    if request.method == "GET":
        return _remove_confirm(request)
    try:
        card = card_remove(user=request.user, payment_method=request.POST.get("payment_method", ""))
    except (PaymentMethodError, gateway.GatewayError) as exc:
        _failure(request, exc)
    else:
        messages.success(request, f"The card ending {card['last4']} was removed.")
    return redirect(LIST)


def _remove_confirm(request):
    if not _stripe_reads_limited(request):
        messages.error(request, "Too many requests: please wait a minute and try again.")
        return redirect(LIST)
    try:
        card = card_owned(user=request.user, payment_method=request.GET.get("payment_method", ""))
    except (PaymentMethodError, gateway.GatewayError) as exc:
        _failure(request, exc)
        return redirect(LIST)
    return render(request, "accounts/payment_method_remove.html", {"card": card})


@require_POST
@buyer_only
def payment_method_default(request):
    """Make a saved card the default (refused for an expired card or someone else's)."""
    try:
        card = card_make_default(
            user=request.user,
            payment_method=request.POST.get("payment_method", ""),
            attempt=request.POST.get("attempt", ""),
        )
    except (PaymentMethodError, gateway.GatewayError) as exc:
        _failure(request, exc)
    else:
        messages.success(request, f"The card ending {card['last4']} is now your default.")
    return redirect(LIST)


@require_POST
@buyer_only
def payment_method_choose(request):
    """The pay page, before it confirms with a saved card: the server checks the card
    and puts it on the checkout's intents (JSON: 200, 400 with the reason, 409 when
    the checkout is paid already, 503 when Stripe cannot be reached)."""
    try:
        card_choose_for_checkout(
            user=request.user,
            checkout_id=request.POST.get("checkout_id", ""),
            payment_method=request.POST.get("payment_method", ""),
            attempt=request.POST.get("attempt", ""),
        )
    except CheckoutSettled as exc:
        return JsonResponse({"error": str(exc), "settled": True}, status=409)
    except PaymentMethodError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except gateway.GatewayError as exc:
        logger.info("Choosing a saved card: Stripe said %s", exc)
        status = 503 if isinstance(exc, gateway.GatewayUnavailable) else 502
        return JsonResponse({"error": pay_messages.gateway_error_message(exc)}, status=status)
    return JsonResponse({"ok": True})
