"""Contractors: Connect onboarding (hosted or custom) and the dashboard."""

import logging
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.client_ip import client_ip
from payments import gateway
from payments.services import connect
from payments.services import onboarding as onboarding_service
from shop.pay_messages import gateway_error_message

from . import kept_uploads, selectors
from .connect_forms import DOCUMENT_FIELDS, CustomOnboardingForm
from .decorators import ONBOARDING_WHY, verified_email_required
from .requirements import disabled_reason_label, requirement_labels

logger = logging.getLogger(__name__)

ONBOARDING_FORM = "custom_onboarding"
CHECKING = "Thanks! Stripe is checking your details; we'll tell you when you can sell."


def contractor_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        profile = getattr(request.user, "profile", None)
        if profile is None or not profile.is_contractor:
            return HttpResponseForbidden("This page is for contractors.")
        return view(request, *args, **kwargs)

    return wrapper


def _unreachable(request):
    messages.error(request, gateway.GatewayUnavailable.user_message)
    return redirect("accounts:dashboard")


@contractor_required
@verified_email_required(ONBOARDING_WHY)
def onboarding(request):
    """Hosted onboarding's start page, or our own form built from what Stripe asks."""
    if settings.CONNECT_ONBOARDING != "custom":
        return _onboarding_page(request, None)
    try:
        due = onboarding_service.requirements_due(user_id=request.user.pk)
    except gateway.GatewayError as exc:  # unreachable, or refused: said in our words
        logger.warning("Requirements of user %s not read: %s", request.user.pk, exc)
        messages.error(request, gateway_error_message(exc))
        return redirect("accounts:dashboard")
    posted = request.method == "POST"
    files = kept_uploads.files_with_kept(request, ONBOARDING_FORM, DOCUMENT_FIELDS)
    form = CustomOnboardingForm(
        due,
        request.POST if posted else None,
        files if posted else None,
        email=request.user.email,
    )
    if posted and form.fields:
        if form.is_valid() and (profile := _custom_onboarding_send(request, form)):
            kept_uploads.discard(request, ONBOARDING_FORM)
            return _after_submit(request, profile)
        kept_uploads.keep_valid(request, ONBOARDING_FORM, form, DOCUMENT_FIELDS)
    form.show_kept(kept_uploads.kept_names(request, ONBOARDING_FORM))
    return _onboarding_page(request, form)


def _onboarding_page(request, form: CustomOnboardingForm | None):
    profile = request.user.profile
    profile.refresh_from_db()
    return render(
        request,
        "accounts/onboarding.html",
        {
            "profile": profile,
            "custom": form is not None,
            "form": form,
            "due": requirement_labels(profile.requirements.get("currently_due")),
        },
    )


def _after_submit(request, profile):
    """Stripe's answer decides: enabled, still checking, or back to the form for what
    is still due."""
    still_due = requirement_labels(profile.requirements.get("currently_due"))
    if profile.charges_enabled:
        messages.success(request, "Thanks! Stripe has everything it needs: you can now sell.")
        return redirect("accounts:dashboard")
    if not still_due:
        _tell_nothing_is_due_yet(request, profile)
        return redirect("accounts:dashboard")
    messages.warning(
        request, "Thanks, your details were sent. Stripe still needs: " + "; ".join(still_due)
    )
    return redirect("accounts:onboarding")


def _tell_nothing_is_due_yet(request, profile) -> None:
    """Nothing is asked for, yet charges are off: Stripe verifies in the background
    (pending_verification) and enables the account later, by account.updated. Unless
    it closed or the platform paused the account, where no waiting helps."""
    reason = profile.requirements.get("disabled_reason") or ""
    if reason.startswith("rejected.") or reason == "platform_paused":
        messages.error(request, f"{disabled_reason_label(reason)}.")
    else:
        messages.info(request, CHECKING)


def _custom_onboarding_send(request, form: CustomOnboardingForm):
    """Send the form to Stripe: the profile as Stripe left it, or None (with the
    reason shown) if it did not go."""
    try:
        return onboarding_service.custom_details_submit(
            user_id=request.user.pk,
            details=form.details(),
            # Stripe records where the terms were accepted: the client, not our proxy.
            ip=client_ip(request) or "127.0.0.1",
        )
    except gateway.GatewayUnavailable:
        messages.error(request, gateway.GatewayUnavailable.user_message)
    except gateway.GatewayRejected as exc:
        form.add_error(None, f"Stripe could not accept these details: {exc.user_message}")
    return None


@contractor_required
@require_POST
@verified_email_required(ONBOARDING_WHY, back="accounts:onboarding")
def onboarding_start(request):
    """Send the contractor to Stripe's hosted onboarding with a fresh Account Link."""
    return _redirect_to_new_link(request)


@contractor_required
@verified_email_required(ONBOARDING_WHY)
def onboarding_refresh(request):
    """Stripe's refresh_url: the link expired or was used; make a new one."""
    return _redirect_to_new_link(request)


def _redirect_to_new_link(request):
    try:
        url = connect.onboarding_link_create(
            user_id=request.user.pk,
            refresh_url=request.build_absolute_uri(reverse("accounts:onboarding_refresh")),
            return_url=request.build_absolute_uri(reverse("accounts:onboarding_return")),
        )
    except gateway.GatewayUnavailable:
        return _unreachable(request)
    return redirect(url)


@contractor_required
def onboarding_return(request):
    """Stripe's return_url. The redirect proves nothing: the account's status decides."""
    try:
        profile = connect.account_sync(user_id=request.user.pk)
    except gateway.GatewayUnavailable:
        return _unreachable(request)
    if profile.charges_enabled:
        messages.success(request, "You're all set: you can now sell and get paid.")
    elif profile.details_submitted and not profile.requirements.get("currently_due"):
        _tell_nothing_is_due_yet(request, profile)
    else:
        messages.warning(request, "Stripe still needs some details before you can sell.")
    return redirect("accounts:dashboard")


def _account_state(profile) -> str:
    """The account in a word: active, restricted or not_started. Sign-up makes the
    connected account at once and Stripe reports a new one as past due: that is no
    restriction to warn about until the contractor has started (the rule notifications
    use too)."""
    if profile.charges_enabled:
        return "active"
    if profile.stripe_id and profile.onboarding_started:
        return "restricted"
    return "not_started"


@contractor_required
def dashboard(request):
    user = request.user
    profile = user.profile
    attention = selectors.sales_attention_get(contractor=user)
    state = _account_state(profile)
    requirements = profile.requirements if state != "not_started" else {}
    context = {
        "profile": profile,
        "account_state": state,
        "due": requirement_labels(requirements.get("currently_due")),
        "disabled_reason": disabled_reason_label(requirements.get("disabled_reason")),
        "email_verified": selectors.email_verified(user),
        "balances": selectors.balance_list(contractor=user),
        "payout_outlook": selectors.payout_outlook_get(contractor=user),
        "payout_history": selectors.payout_history(contractor=user),
        "payout_requests": selectors.payout_request_open_list(contractor=user),
        "transfers": selectors.transfer_list(contractor=user),
        "debits": selectors.debit_list(contractor=user),
        "totals": selectors.earning_list(contractor=user),
        "awaiting": attention.awaiting,
        "flagged": attention.flagged,
    }
    return render(request, "accounts/dashboard.html", context)


@contractor_required
@require_POST
def balance_refresh(request):
    """On-demand balance refresh, throttled per contractor by the service."""
    try:
        connect.balance_refresh(user_id=request.user.pk)
    except gateway.GatewayUnavailable:
        return _unreachable(request)
    messages.info(request, "Balance updated.")
    return redirect("accounts:dashboard")
