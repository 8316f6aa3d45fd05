"""Our own Connect onboarding form (the `custom` path)."""

import datetime

from django import forms
from django.utils.html import format_html

from .documents import ACCEPT, validate_document

DOCUMENT_FIELDS = ("document", "additional_document")


def _document_field(label: str, help_text: str) -> forms.FileField:
    return forms.FileField(
        label=label,
        help_text=f"{help_text} JPEG, PNG or PDF, at most 10 MB.",
        validators=[validate_document],
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
    )


class CustomOnboardingForm(forms.Form):
    # A kept document (accounts/kept_uploads.py) may stand in for an empty file input,
    # so the browser must not insist on one.
    use_required_attribute = False

    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    dob = forms.DateField(label="Date of birth", widget=forms.DateInput(attrs={"type": "date"}))
    phone = forms.CharField(max_length=32, required=False)
    address_line1 = forms.CharField(label="Address", max_length=200)
    city = forms.CharField(max_length=100)
    state = forms.CharField(max_length=100, required=False)
    postal_code = forms.CharField(max_length=20)
    document = _document_field("Identity document (front)", "Passport, ID card or driving licence.")
    additional_document = _document_field(
        "Additional document (front)", "A second document proving your identity or address."
    )
    tos = forms.BooleanField(
        label="I accept the Stripe Connected Account Agreement",
        error_messages={"required": "You must accept the agreement to get paid."},
    )

    def clean_dob(self):
        dob = self.cleaned_data["dob"]
        today = datetime.date.today()
        age = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
        if age < 18:
            raise forms.ValidationError("You must be at least 18 years old.")
        if age > 120:
            raise forms.ValidationError("Enter your real date of birth.")
        return dob

    def show_kept(self, kept: dict[str, str]) -> None:
        """Tell the user which documents from their last try are kept."""
        for name, filename in kept.items():
            # help_text is rendered as HTML: the file name is the user's, so escaped.
            # Set on the bound field too: validation already built and cached it.
            self[name].help_text = self.fields[name].help_text = format_html(
                "Kept from your last try: <strong>{}</strong>. Choose a file to replace it.",
                filename,
            )

    def individual(self, email: str) -> dict:
        """The `individual` hash Stripe's Accounts API expects (no documents)."""
        data = self.cleaned_data
        dob = data["dob"]
        individual = {
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "email": email,
            "dob": {"day": dob.day, "month": dob.month, "year": dob.year},
            "address": {
                "line1": data["address_line1"],
                "city": data["city"],
                "postal_code": data["postal_code"],
            },
        }
        if data["state"]:
            individual["address"]["state"] = data["state"]
        if data["phone"]:
            individual["phone"] = data["phone"]
        return individual
