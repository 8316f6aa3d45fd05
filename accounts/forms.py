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
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email already exists.")
        return email
