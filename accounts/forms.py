from django import forms
from django.contrib.auth.forms import (
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
    UserCreationForm,
)
from django.urls import reverse
from django.utils import timezone

from .email_services import password_changed_notify
from .mail import account_email_send, email_allowed
from .models import User, UserProfile


class SignupForm(UserCreationForm):
    """Sign-up for buyers and contractors; the view hands clean data to `user_signup`."""

    role = forms.ChoiceField(
        choices=UserProfile.Role.choices,
        widget=forms.RadioSelect,
        label="I want to",
        help_text="Buyers shop; contractors sell and get paid out through Stripe.",
    )
    display_name = forms.CharField(max_length=120, required=False, label="Name shown to others")

    class Meta:
        model = User
        fields = ("email",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [
            (UserProfile.Role.BUYER, "Buy from contractors"),
            (UserProfile.Role.CONTRACTOR, "Sell as a contractor"),
        ]
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "autofocus": True})

    @staticmethod
    def initial_role(value: str | None) -> str:
        """`?role=` from a link ("Sell here", "use a buyer account") if it names a role,
        else buyer: most people signing up came to shop, and a form with no choice made
        looks like it forgot one."""
        return value if value in UserProfile.Role.values else UserProfile.Role.BUYER

    def clean_email(self):
        # Whether the address already has an account is not said here: that would tell
        # anyone who asks. The view answers both the same way and emails the owner.
        return self.cleaned_data["email"].strip().lower()

    def _get_validation_exclusions(self):
        # The model's case-insensitive unique constraint on email would say it too.
        return {*super()._get_validation_exclusions(), "email"}


class ResetRequestForm(PasswordResetForm):
    """Django's reset request, sent as our other account emails are: after commit by a
    task (the page takes the same time whether the address has an account), with a
    link to our own confirm page, at most a few an hour per address."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "autofocus": True})

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        if not email_allowed("reset", to_email):
            return
        link = reverse("accounts:password_reset_confirm", args=[context["uid"], context["token"]])
        account_email_send(to=to_email, template="password_reset", context={"link": link})


class ResetPasswordForm(SetPasswordForm):
    """The new password from a reset link. The link reached the address, so it is
    proven too; the address is told that the password changed."""

    def save(self, commit=True):
        if self.user.email_verified_at is None:
            self.user.email_verified_at = timezone.now()
        user = super().save(commit=commit)
        if commit:
            password_changed_notify(user=user)
        return user


class ChangePasswordForm(PasswordChangeForm):
    """Change password (current one required); the address is told of the change."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            password_changed_notify(user=user)
        return user


class EmailChangeForm(forms.Form):
    """A new address, and the current password so a borrowed session cannot move the
    account (and its password resets) to someone else's address."""

    new_email = forms.EmailField(
        label="New email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_new_email(self) -> str:
        email = self.cleaned_data["new_email"].strip().lower()
        if email == self.user.email.lower():
            raise forms.ValidationError("That is already your email address.")
        return email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("Your password was entered incorrectly.")
        return password
