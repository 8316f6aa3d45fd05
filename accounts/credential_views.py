"""Passwords and email addresses: reset, change, and proving an address works.

The reset pages are Django's own views with our forms and templates (see urls.py).
Every page an emailed link opens changes nothing on GET: mail scanners open links, and
must not use up a one-time token.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_http_methods

from . import selectors
from .decorators import verify_url
from .email_services import (
    EmailChangeError,
    email_change_confirm,
    email_change_request,
    email_verification_confirm,
    email_verification_send,
)
from .forms import ChangePasswordForm, EmailChangeForm, ResetPasswordForm, ResetRequestForm
from .landing import landing_url, safe_next
from .tokens import email_change_read, user_for_token, verification_tokens
from .views import demo_email_folder


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetRequestForm
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        self.request.session["reset_email"] = form.cleaned_data["email"].strip().lower()
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "email": self.request.session.get("reset_email"),
            "email_folder": demo_email_folder(),
        }


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = ResetPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = ChangePasswordForm
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this session signed in
        messages.success(self.request, "Your password was changed.")
        return response


@login_required
@require_http_methods(["GET", "POST"])
def email_change(request):
    """Ask for a new address; it takes effect when the link emailed to it is used."""
    form = EmailChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            email_change_request(user=request.user, new_email=form.cleaned_data["new_email"])
        except EmailChangeError as exc:
            form.add_error("new_email", str(exc))
        else:
            return render(
                request,
                "registration/email_change_sent.html",
                {"email": form.cleaned_data["new_email"], "email_folder": demo_email_folder()},
            )
    return render(request, "registration/email_change_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def email_change_confirm_view(request, token: str):
    """The link sent to the new address: a button that makes it the account's address."""
    found = email_change_read(token)
    if found is None:
        return render(
            request, "registration/email_change_confirm.html", {"valid": False}, status=400
        )
    if request.method == "GET":
        context = {"valid": True, "new_email": found[1]}
        return render(request, "registration/email_change_confirm.html", context)
    try:
        user = email_change_confirm(token=token)
    except EmailChangeError as exc:
        context = {"valid": False, "reason": str(exc)}
        return render(request, "registration/email_change_confirm.html", context, status=400)
    messages.success(request, f"Your email address is now {user.email}.")
    if request.user.is_authenticated and request.user.pk == user.pk:
        return redirect("accounts:profile")
    return redirect("accounts:login")


@login_required
@require_http_methods(["GET", "POST"])
def email_verify(request):
    """Why the address must be proven, and a button that (re)sends the link."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if selectors.email_verified(request.user):
        return redirect(next_url or landing_url(request.user))
    if request.method == "POST":
        if email_verification_send(user=request.user, next_url=next_url):
            messages.success(request, f"We sent a link to {request.user.email}.")
        else:
            messages.warning(
                request,
                "We sent this link several times in the last hour: please look for the "
                "newest one (and in your spam folder), or try again later.",
            )
        return redirect(verify_url(next_url))
    context = {"next": next_url, "email_folder": demo_email_folder()}
    return render(request, "registration/email_verify.html", context)


@require_http_methods(["GET", "POST"])
def email_verify_confirm(request, uidb64: str, token: str):
    """The emailed link: a button that marks the address as proven."""
    user = user_for_token(uidb64, token, verification_tokens)
    if user is None:
        return render(
            request, "registration/email_verify_confirm.html", {"valid": False}, status=400
        )
    next_url = safe_next(request, request.GET.get("next"))
    if request.method == "GET":
        context = {"valid": True, "email": user.email, "next": next_url}
        return render(request, "registration/email_verify_confirm.html", context)
    email_verification_confirm(user=user)
    messages.success(request, f"Thank you: {user.email} is confirmed.")
    if request.user.is_authenticated and request.user.pk == user.pk:
        return redirect(next_url or landing_url(request.user))
    login_url = reverse("accounts:login")
    return redirect(f"{login_url}?{urlencode({'next': next_url})}" if next_url else login_url)
