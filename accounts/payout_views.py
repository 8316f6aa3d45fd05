"""Contractors' payouts on the dashboard: re-read the schedule and pending money from
Stripe, and "Pay out now" for accounts on a manual schedule."""

import logging
import re

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.money import format_amount
from payments import gateway
from payments.services import payouts
from shop.pay_messages import gateway_error_message

from .connect_views import contractor_required

logger = logging.getLogger(__name__)

CURRENCY = re.compile(r"^[a-z]{3}$")


def _back():
    return redirect(reverse("accounts:dashboard") + "#payouts")


@contractor_required
@require_POST
def payouts_refresh(request):
    """Re-read the payout schedule, balance and pending money (throttled by the service)."""
    try:
        payouts.payout_outlook_refresh(user_id=request.user.pk)
    except gateway.GatewayError as exc:  # Stripe's own wording is logged, not shown
        logger.warning("Payout details of user %s not read: %s", request.user.pk, exc)
        messages.error(request, gateway_error_message(exc))
    else:
        messages.info(request, "Payout details updated.")
    return _back()


@contractor_required
@require_POST
def payout_now(request):
    """Pay the available balance of one currency out now (a manual schedule only)."""
    currency = request.POST.get("currency", "")
    if not CURRENCY.match(currency):
        return HttpResponseBadRequest("Choose the currency to pay out (a code such as usd).")
    try:
        payout, created = payouts.payout_now_request(user_id=request.user.pk, currency=currency)
    except payouts.PayoutNotAllowed as exc:
        messages.error(request, str(exc))
        return _back()
    amount = format_amount(payout.amount, payout.currency)
    if created:
        messages.success(request, f"Payout of {amount} requested: it is on its way to your bank.")
    else:
        messages.info(request, f"Your payout of {amount} is already on its way.")
    return _back()
