from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .forms import SignupForm
from .landing import landing_url
from .services import sign_in_tokens, signup_request
from .services import signup_confirm as signup_confirm_service
from .tokens import user_for_token


class LoginView(auth_views.LoginView):
    """Log in, then land where the person's role has work: see `landing_url`."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_success_url(self):
        next_url = self.get_redirect_url()
        if next_url.split("?", 1)[0] == self.request.path:
            next_url = ""  # ?next=/accounts/login/ would loop
        return landing_url(self.request.user, next_url)


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect(landing_url(request.user))
    initial = {"role": SignupForm.initial_role(request.GET.get("role"))}
    form = SignupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        signup_request(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            role=form.cleaned_data["role"],
            display_name=form.cleaned_data["display_name"],
        )
        request.session["signup_email"] = form.cleaned_data["email"]
        return redirect("accounts:signup_sent")
    return render(request, "accounts/signup.html", {"form": form})


def signup_sent(request):
    """The same answer whether the address was new or already had an account."""
    return render(
        request,
        "accounts/signup_sent.html",
        {"email": request.session.get("signup_email"), "email_folder": demo_email_folder()},
    )


def demo_email_folder() -> str:
    """On a laptop (the demo) emails are files: where, to say so on "check your email"
    pages (the same for every address, so it tells nothing about accounts)."""
    return getattr(settings, "EMAIL_FILE_PATH", "") if settings.DEBUG else ""


@require_http_methods(["GET", "POST"])
def signup_confirm(request, uidb64: str, token: str):
    """The emailed link: a button that signs in. A GET changes nothing, so mail scanners
    that open links do not use up the one-time token."""
    user = user_for_token(uidb64, token, sign_in_tokens)
    if user is None:
        return render(request, "accounts/signup_confirm.html", {"valid": False}, status=400)
    if request.method == "GET":
        return render(request, "accounts/signup_confirm.html", {"valid": True, "email": user.email})
    user = signup_confirm_service(user=user)
    if not user.is_active:
        return render(request, "accounts/signup_confirm.html", {"valid": False}, status=400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.pop("signup_email", None)
    messages.success(request, "Welcome! Your email is confirmed and your account is ready.")
    profile = getattr(user, "profile", None)
    if profile is not None and profile.is_contractor:
        return redirect("accounts:onboarding")
    return redirect("shop:product_list")


@login_required
def profile(request):
    return render(
        request, "accounts/profile.html", {"profile": getattr(request.user, "profile", None)}
    )
