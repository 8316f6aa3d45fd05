"""Our own Connect onboarding form (the `custom` path)."""

import datetime

from django import forms
from django.core.validators import FileExtensionValidator

DOCUMENT_TYPES = ["jpg", "jpeg", "png", "pdf"]
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # Stripe's limit for identity documents


def _document_field(label: str, help_text: str) -> forms.FileField:
    return forms.FileField(
        label=label,
        help_text=help_text,
        validators=[FileExtensionValidator(DOCUMENT_TYPES)],
        widget=forms.ClearableFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}),
    )


class CustomOnboardingForm(forms.Form):
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

    def clean(self):
        cleaned = super().clean()
        for name in ("document", "additional_document"):
            upload = cleaned.get(name)
            if upload is not None and upload.size > MAX_DOCUMENT_BYTES:
                self.add_error(name, "Documents must be 10 MB or smaller.")
        return cleaned

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
