"""Our own Connect onboarding form (the `custom` path), built from what Stripe asks.

The fields are the account's own `requirements.currently_due`: each code the form
knows brings the fields that answer it (a name, an address, a bank account…), and
only those are sent. A code the form does not know (a company's owners, a
representative…) is listed for the contractor with Stripe's hosted onboarding as
the way to give it.
"""

import datetime
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.utils.html import format_html

from payments.services.onboarding import CustomDetails

from .bank_formats import BankFormat, bank_format
from .documents import ACCEPT, validate_document
from .requirements import requirement_labels

DOCUMENT_FIELDS = ("document", "additional_document")

# Merchant category codes a contractor of this shop may pick (Stripe's list is
# longer; these are the kinds of shop the marketplace has).
MCC_CHOICES = [
    ("5734", "Computer software"),
    ("5945", "Toys, games and hobbies"),
    ("5691", "Clothing"),
    ("5712", "Furniture and home goods"),
    ("5942", "Books"),
    ("5970", "Arts and crafts"),
    ("5999", "Other retail"),
    ("7299", "Other services"),
]


def _document_field(label: str, help_text: str) -> forms.FileField:
    return forms.FileField(
        label=label,
        help_text=f"{help_text} JPEG, PNG or PDF, at most 10 MB.",
        validators=[validate_document],
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
    )


def _text(label: str, max_length: int, **kwargs) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, **kwargs)


def _address_fields(prefix: str, state_required: bool, whose: str = "") -> dict[str, forms.Field]:
    return {
        f"{prefix}address_line1": _text(f"{whose}address".capitalize(), 200),
        f"{prefix}city": _text(f"{whose}city".capitalize(), 100),
        f"{prefix}state": _text(f"{whose}state".capitalize(), 100, required=state_required),
        f"{prefix}postal_code": _text(f"{whose}postal code".capitalize(), 20),
    }


ADDRESS_CODES = ("address.line1", "address.city", "address.postal_code", "address.state")
# Which group of fields answers each requirement code the form knows.
GROUPS: dict[str, tuple[str, ...]] = {
    "name": ("individual.first_name", "individual.last_name"),
    "dob": ("individual.dob.day", "individual.dob.month", "individual.dob.year"),
    "address": tuple(f"individual.{code}" for code in ADDRESS_CODES),
    "email": ("individual.email",),
    "phone": ("individual.phone",),
    "ssn": ("individual.ssn_last_4",),
    "id_number": ("individual.id_number",),
    "document": ("individual.verification.document",),
    "additional": ("individual.verification.additional_document",),
    "mcc": ("business_profile.mcc",),
    "website": ("business_profile.url", "business_profile.product_description"),
    "bank": ("external_account",),
    "tos": ("tos_acceptance.date", "tos_acceptance.ip"),
    "business_type": ("business_type",),
    "company_name": ("company.name",),
    "company_phone": ("company.phone",),
    "company_tax_id": ("company.tax_id",),
    "company_address": tuple(f"company.{code}" for code in ADDRESS_CODES),
}
KNOWN = {code: name for name, codes in GROUPS.items() for code in codes}


def _website() -> dict[str, forms.Field]:
    return {
        "url": forms.URLField(label="Your website", required=False, assume_scheme="https"),
        "product_description": _text(
            "What you sell",
            500,
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text="Needed if you have no website.",
        ),
    }


def _bank() -> dict[str, forms.Field]:
    """The bank account in the format of the accounts' country (CONNECT_COUNTRY)."""
    found = bank_format(settings.CONNECT_COUNTRY)
    assert found is not None  # the form asks only for a country it knows (__init__)
    fields: dict[str, forms.Field] = {
        "account_holder_name": _text("Account holder's name", 100),
    }
    if found.routing_label:
        fields["routing_number"] = _text(found.routing_label, 20)
    fields["account_number"] = _text(found.account_label, 40)
    return fields


def _digits(label: str, least: int, most: int, what: str) -> forms.RegexField:
    return forms.RegexField(
        label=label,
        regex=rf"^\d{{{least},{most}}}$",
        error_messages={"invalid": f"Enter {what}."},
    )


# Each group's fields, made fresh for every form (a bound form changes its fields).
BUILDERS: dict[str, Callable[[set[str]], dict[str, forms.Field]]] = {
    "name": lambda due: {
        "first_name": _text("First name", 100),
        "last_name": _text("Last name", 100),
    },
    "dob": lambda due: {
        "dob": forms.DateField(
            label="Date of birth", widget=forms.DateInput(attrs={"type": "date"})
        )
    },
    "address": lambda due: _address_fields("", "individual.address.state" in due),
    "email": lambda due: {"email": forms.EmailField(label="Email address")},
    "phone": lambda due: {"phone": _text("Phone number", 32)},
    "ssn": lambda due: {
        "ssn_last_4": _digits("Last 4 digits of your SSN", 4, 4, "exactly 4 digits")
    },
    "id_number": lambda due: {"id_number": _text("National ID number", 64)},
    "document": lambda due: {
        "document": _document_field(
            "Identity document (front)", "Passport, ID card or driving licence."
        )
    },
    "additional": lambda due: {
        "additional_document": _document_field(
            "Additional document (front)", "A second document proving your identity or address."
        )
    },
    "mcc": lambda due: {"mcc": forms.ChoiceField(label="Kind of shop", choices=MCC_CHOICES)},
    "website": lambda due: _website(),
    "bank": lambda due: _bank(),
    "tos": lambda due: {
        "tos": forms.BooleanField(
            label="I accept the Stripe Connected Account Agreement",
            error_messages={"required": "You must accept the agreement to get paid."},
        )
    },
    "business_type": lambda due: {},
    "company_name": lambda due: {"company_name": _text("Company name", 200)},
    "company_phone": lambda due: {"company_phone": _text("Company phone number", 32)},
    "company_tax_id": lambda due: {"company_tax_id": _text("Company tax ID", 64)},
    "company_address": lambda due: _address_fields(
        "company_", "company.address.state" in due, whose="company "
    ),
}


class CustomOnboardingForm(forms.Form):
    """The fields for the requirement codes `due` that the form knows."""

    # A kept document (accounts/kept_uploads.py) may stand in for an empty file input,
    # so the browser must not insist on one.
    use_required_attribute = False

    def __init__(self, due: list[str], *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.due = set(due)
        self.groups = [name for name, codes in GROUPS.items() if self.due.intersection(codes)]
        if bank_format(settings.CONNECT_COUNTRY) is None and "bank" in self.groups:
            self.groups.remove("bank")  # a format the form does not know: Stripe's page
        for group in self.groups:
            self.fields.update(BUILDERS[group](self.due))
        if "email" in self.fields:
            self.fields["email"].initial = email
        # Codes no field here answers: given on Stripe's own page.
        self.unknown = [code for code in due if KNOWN.get(code) not in self.groups]

    @property
    def unknown_labels(self) -> list[str]:
        return requirement_labels(self.unknown)

    def clean_dob(self):
        dob = self.cleaned_data["dob"]
        today = datetime.date.today()
        age = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
        if age < 18:
            raise forms.ValidationError("You must be at least 18 years old.")
        if age > 120:
            raise forms.ValidationError("Enter your real date of birth.")
        return dob

    def clean_routing_number(self):
        return _bank_format().clean_routing(self.cleaned_data["routing_number"])

    def clean_account_number(self):
        country = settings.CONNECT_COUNTRY.upper()
        return _bank_format().clean_account(self.cleaned_data["account_number"], country)

    def clean(self):
        data = super().clean()
        if "website" in self.groups and not (data.get("url") or data.get("product_description")):
            self.add_error("url", "Give your website, or describe what you sell.")
        return data

    def show_kept(self, kept: dict[str, str]) -> None:
        """Tell the user which documents from their last try are kept."""
        for name, filename in kept.items():
            if name not in self.fields:
                continue
            # help_text is rendered as HTML: the file name is the user's, so escaped.
            # Set on the bound field too: validation already built and cached it.
            self[name].help_text = self.fields[name].help_text = format_html(
                "Kept from your last try: <strong>{}</strong>. Choose a file to replace it.",
                filename,
            )

    def details(self) -> CustomDetails:
        """What to send to Stripe: the parts the due codes ask for, nothing else."""
        data = self.cleaned_data
        return CustomDetails(
            # Our contractors sign up as people; a company onboards through Stripe's page.
            business_type="individual" if "business_type" in self.groups else "",
            individual=_individual(data),
            company=_company(data),
            business_profile=_business_profile(data),
            external_account=_bank_account(data),
            accept_tos="tos" in self.groups,
            documents={
                name: (data[name], data[name].name) for name in DOCUMENT_FIELDS if data.get(name)
            },
        )


def _address(data: dict, prefix: str) -> dict:
    address = {
        key: data[f"{prefix}{name}"]
        for key, name in (
            ("line1", "address_line1"),
            ("city", "city"),
            ("postal_code", "postal_code"),
            ("state", "state"),
        )
        if data.get(f"{prefix}{name}")
    }
    return address


def _individual(data: dict) -> dict:
    individual = {
        key: data[key]
        for key in ("first_name", "last_name", "email", "phone", "ssn_last_4", "id_number")
        if data.get(key)
    }
    if data.get("dob"):
        dob = data["dob"]
        individual["dob"] = {"day": dob.day, "month": dob.month, "year": dob.year}
    address = _address(data, "")
    if address:
        individual["address"] = address
    return individual


def _company(data: dict) -> dict:
    company = {
        key: data[f"company_{key}"]
        for key in ("name", "phone", "tax_id")
        if data.get(f"company_{key}")
    }
    address = _address(data, "company_")
    if address:
        company["address"] = address
    return company


def _business_profile(data: dict) -> dict:
    return {key: data[key] for key in ("mcc", "url", "product_description") if data.get(key)}


def _bank_format() -> BankFormat:
    found = bank_format(settings.CONNECT_COUNTRY)
    assert found is not None
    return found


def _bank_account(data: dict) -> dict:
    if not data.get("account_number"):
        return {}
    bank = {
        "object": "bank_account",
        "country": settings.CONNECT_COUNTRY.upper(),
        # Paid out in the country's currency (a GB account cannot take USD payouts).
        "currency": _bank_format().currency,
        "account_holder_name": data["account_holder_name"],
        "account_holder_type": "individual",
        "account_number": data["account_number"],
    }
    if data.get("routing_number"):
        bank["routing_number"] = data["routing_number"]
    return bank
