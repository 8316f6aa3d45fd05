"""The shipping address form: the rules an address must meet, for the checkout page
and the API alike (shop/api/serializers.py runs this form too).

Countries are a short list the shop ships to, not free text: Stripe takes a
two-letter ISO code, and a code we cannot check the postal code or state of would
reach the contractor unchecked. Where a country's post needs a state (US, Canada,
Australia) it is a choice of that country's codes.
"""

import re
from typing import Any

from django import forms

from .shipping import Address

COUNTRIES = [
    ("AT", "Austria"),
    ("AU", "Australia"),
    ("BE", "Belgium"),
    ("CA", "Canada"),
    ("CH", "Switzerland"),
    ("DE", "Germany"),
    ("DK", "Denmark"),
    ("ES", "Spain"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("IE", "Ireland"),
    ("IT", "Italy"),
    ("JP", "Japan"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("NZ", "New Zealand"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("SE", "Sweden"),
    ("US", "United States"),
]
COUNTRY_NAMES = dict(COUNTRIES)

_US_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE "
    "NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP "
    "AA AE AP"
)
# Countries whose post needs a state or province, with the codes it takes.
STATES = {
    "US": frozenset(_US_STATES.split()),
    "CA": frozenset(["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"]),
    "AU": frozenset(["ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA"]),
}
# Postal codes as each country's post writes them; any other listed country takes
# 3-10 letters, digits, spaces and hyphens. Ireland's Eircode is optional.
POSTAL_CODES = {
    "US": re.compile(r"^\d{5}(-\d{4})?$"),
    "CA": re.compile(r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$"),
    "GB": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),
    "NL": re.compile(r"^\d{4} ?[A-Z]{2}$"),
    "JP": re.compile(r"^\d{3}-?\d{4}$"),
    "DE": re.compile(r"^\d{5}$"),
    "FR": re.compile(r"^\d{5}$"),
    "AU": re.compile(r"^\d{4}$"),
}
OTHER_POSTAL_CODE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{1,8}[A-Z0-9]$")
POSTAL_CODE_OPTIONAL = frozenset({"IE"})


class ShippingAddressForm(forms.Form):
    name = forms.CharField(
        label="Full name", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    line1 = forms.CharField(
        label="Address",
        max_length=200,
        help_text="Street and number, or PO box.",
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    line2 = forms.CharField(
        label="Apartment, suite, etc.",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label="City",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    postal_code = forms.CharField(
        label="Postal code",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    state = forms.CharField(
        label="State / province",
        max_length=100,
        required=False,
        help_text="Needed in the US, Canada and Australia: the two or three letter code, "
        "e.g. NY, ON, NSW.",
        widget=forms.TextInput(attrs={"autocomplete": "address-level1"}),
    )
    country = forms.ChoiceField(
        label="Country",
        choices=[("", "Choose a country"), *COUNTRIES],
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name in ("name", "line1", "line2", "city", "postal_code", "state"):
            if isinstance(data.get(name), str):
                data[name] = " ".join(data[name].split())  # no stray or doubled spaces
        country = data.get("country")
        if country:
            self._clean_state(data, country)
            self._clean_postal_code(data, country)
        return data

    def _clean_state(self, data: dict[str, Any], country: str) -> None:
        codes = STATES.get(country)
        state = (data.get("state") or "").upper()
        if codes is None:
            return
        if not state:
            self.add_error("state", f"Enter the state or province ({COUNTRY_NAMES[country]}).")
        elif state not in codes:
            self.add_error(
                "state", f"“{state}” is not a state of {COUNTRY_NAMES[country]}: use its code."
            )
        else:
            data["state"] = state

    def _clean_postal_code(self, data: dict[str, Any], country: str) -> None:
        code = (data.get("postal_code") or "").upper()
        if not code:
            if country not in POSTAL_CODE_OPTIONAL:
                self.add_error("postal_code", "Enter the postal code.")
            return
        if not POSTAL_CODES.get(country, OTHER_POSTAL_CODE).match(code):
            self.add_error("postal_code", f"This is not a postal code of {COUNTRY_NAMES[country]}.")
            return
        data["postal_code"] = code

    def address(self) -> Address:
        """The checked address (call after is_valid())."""
        data = self.cleaned_data
        return Address(**{name: data.get(name) or "" for name in Address.__dataclass_fields__})


class FulfilForm(forms.Form):
    """What the contractor may add when marking a sale fulfilled."""

    carrier = forms.CharField(
        label="Carrier", max_length=100, required=False, help_text="e.g. USPS, DHL, Royal Mail."
    )
    tracking_number = forms.CharField(label="Tracking number", max_length=100, required=False)
