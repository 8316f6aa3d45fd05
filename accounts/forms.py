from django import forms
from django.contrib.auth.forms import UserCreationForm

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

    def clean_email(self):
        # Whether the address already has an account is not said here: that would tell
        # anyone who asks. The view answers both the same way and emails the owner.
        return self.cleaned_data["email"].strip().lower()

    def _get_validation_exclusions(self):
        # The model's case-insensitive unique constraint on email would say it too.
        return {*super()._get_validation_exclusions(), "email"}
