"""Shapes of shipping in the API: the address a checkout ships to, and the carrier
and tracking number a contractor gives when fulfilling.

The address rules are the checkout page's (shop.shipping_forms.ShippingAddressForm),
run here too, so the API and the web refuse the same addresses with the same words.
"""

from typing import Any

from rest_framework import serializers

from shop.models import Order
from shop.shipping import Address
from shop.shipping_forms import COUNTRIES, ShippingAddressForm

CARRIER_MAX = 100  # Order.carrier's length
TRACKING_MAX = 100  # Order.tracking_number's length


class ShippingAddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="Who receives the parcel.")
    line1 = serializers.CharField(max_length=200, help_text="Street and number, or PO box.")
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    postal_code = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required except in Ireland; checked against the country's format.",
    )
    state = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required in the US, Canada and Australia: the state's code (NY, ON, NSW).",
    )
    country = serializers.ChoiceField(
        choices=COUNTRIES, help_text="ISO 3166-1 alpha-2 code of a country the shop ships to."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        form = ShippingAddressForm(data=attrs)
        if not form.is_valid():
            raise serializers.ValidationError(
                {field: [str(e) for e in errors] for field, errors in form.errors.items()}
            )
        return form.address().as_dict()


def address_or_none(order: Order) -> dict[str, str] | None:
    """The order's address as the API shows it (None: nothing ships, or not given yet)."""
    address = Address.of_order(order)
    return address.as_dict() if address is not None else None


class FulfilInputSerializer(serializers.Serializer):
    carrier = serializers.CharField(
        max_length=CARRIER_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="Who carries the parcel, e.g. USPS, DHL.",
    )
    tracking_number = serializers.CharField(
        max_length=TRACKING_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="The carrier's tracking number.",
    )
