from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.http import require_http_methods

from .forms import SignupForm
from .models import User
from .services import sign_in_tokens, signup_request
from .services import signup_confirm as signup_confirm_service


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = SignupForm(request.POST or None)
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
    # On a laptop (the demo), the email is a file: say where, the same for every address.
    folder = getattr(settings, "EMAIL_FILE_PATH", "") if settings.DEBUG else ""
    return render(
        request,
        "accounts/signup_sent.html",
        {"email": request.session.get("signup_email"), "email_folder": folder},
    )


def _user_for_link(uidb64: str, token: str) -> User | None:
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    return user if sign_in_tokens.check_token(user, token) else None


@require_http_methods(["GET", "POST"])
def signup_confirm(request, uidb64: str, token: str):
    """The emailed link: a button that signs in. A GET changes nothing, so mail scanners
    that open links do not use up the one-time token."""
    user = _user_for_link(uidb64, token)
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
