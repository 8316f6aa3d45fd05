"""Shipping addresses: where a checkout of shipped goods goes, and what Stripe is told.

A checkout whose orders ship asks the buyer for an address before the pay step
(shop/checkout_shipping_views.py). The address is copied onto each of its orders
(the contractor reads it on the sale) and remembered as the buyer's SavedAddress
for their next checkout. The PaymentIntent is made after that, with the address as
its `shipping` (payments.services.intents). Until the buyer has paid, they may
correct it: the intent's `shipping` is updated at Stripe first, under the orders'
row locks, then the orders; once the checkout is paid the address stays.
"""

import uuid
from dataclasses import asdict, dataclass

from django.db import transaction
from django.db.models import Prefetch

from accounts.models import User
from payments.models import Payment

from .models import Order, OrderItem, SavedAddress
from .selectors import PAYABLE_ORDER_STATUSES, PAYABLE_PAYMENT_STATUSES

FIELDS = ("name", "line1", "line2", "city", "postal_code", "state", "country")


class ShippingAddressNeeded(Exception):
    """Goods of the checkout ship and it has no address yet: no PaymentIntent is made
    without one (the message is fit to show)."""

    def __init__(self) -> None:
        super().__init__("These items ship: give a shipping address before paying.")


class AddressLocked(Exception):
    """The checkout is paid (or its payment is on its way): its address stays."""


@dataclass(frozen=True)
class Address:
    """A postal address as the buyer typed it (checked by ShippingAddressForm)."""

    name: str
    line1: str
    city: str
    country: str
    line2: str = ""
    postal_code: str = ""
    state: str = ""

    @classmethod
    def of_order(cls, order: Order) -> "Address | None":
        """The order's address, or None when it has none."""
        if not order.shipping_line1:
            return None
        return cls(**{name: getattr(order, f"shipping_{name}") for name in FIELDS})

    @classmethod
    def of_saved(cls, saved: SavedAddress) -> "Address":
        return cls(**{name: getattr(saved, name) for name in FIELDS})

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def lines(self) -> list[str]:
        """The address as written on a parcel, one line each, empty parts left out."""
        town = " ".join(part for part in (self.postal_code, self.city) if part)
        return [
            line
            for line in (self.name, self.line1, self.line2, town, self.state, self.country)
            if line
        ]

    def to_stripe(self) -> dict:
        """The PaymentIntent's `shipping`: name and address, empty parts left out
        (an empty form value would ask Stripe to clear the field)."""
        address = {
            key: value
            for key, value in (
                ("line1", self.line1),
                ("line2", self.line2),
                ("city", self.city),
                ("postal_code", self.postal_code),
                ("state", self.state),
                ("country", self.country),
            )
            if value
        }
        return {"name": self.name, "address": address}


def order_shipping(order: Order) -> dict | None:
    """What the order's PaymentIntent carries as `shipping` (None: nothing ships)."""
    address = Address.of_order(order) if order.requires_shipping else None
    return address.to_stripe() if address is not None else None


def saved_address_get(*, buyer: User) -> Address | None:
    """The address the buyer last shipped to, if any."""
    saved = SavedAddress.objects.filter(buyer=buyer).first()
    return Address.of_saved(saved) if saved is not None else None


def checkout_address_needed(*, buyer: User, checkout_id: uuid.UUID) -> bool:
    """Some unpaid order of the checkout ships and has no address yet."""
    return any(order.shipping_missing for order in _unpaid(buyer, checkout_id))


def checkout_shipping_orders(*, buyer: User, checkout_id: uuid.UUID) -> list[Order]:
    """The checkout's unpaid orders that ship (empty: nothing asks for an address),
    with their items and sellers, as the address page lists them."""
    return list(
        _shippable(buyer, checkout_id)
        .select_related("seller__profile")
        .prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("pk")))
    )


def _unpaid(buyer: User, checkout_id: uuid.UUID) -> list[Order]:
    return list(
        Order.objects.filter(
            buyer=buyer, checkout_id=checkout_id, status__in=PAYABLE_ORDER_STATUSES
        ).order_by("pk")
    )


def checkout_ship_to(*, buyer: User, checkout_id: uuid.UUID, address: Address) -> int:
    """Ship the checkout's unpaid orders that ship to `address`, and remember it as
    the buyer's address for next time; returns how many orders took it.

    An intent already made for them is told the new address first, outside any row
    lock (a gateway error leaves the orders as they were; a webhook about the intent
    never waits on Stripe's answer); raises AddressLocked once the checkout is paid.
    Then, under the payments' and the orders' row locks (in that order, as webhooks
    take them), every order of a told intent takes it, paid in another tab meanwhile
    or not (Stripe has it), so a pay page preparing the intent at the same moment
    sees either no address (and sends the buyer here) or this one. An intent made in
    between is told on the next round, never under the locks.
    """
    changes = {f"shipping_{name}": value for name, value in address.as_dict().items()}
    told: set[str] = set()
    for _ in range(3):
        orders = list(_shippable(buyer, checkout_id))
        if not told and all(Address.of_order(order) == address for order in orders):
            return len(orders)  # the same again (a retried request): nothing changes
        told |= _intents_ship_to(orders, address, told=told)
        with transaction.atomic():
            payments = list(
                Payment.objects.select_for_update()
                .filter(order__buyer=buyer, order__checkout_id=checkout_id)
                .order_by("pk")
            )
            ids = {order.pk for order in _shippable(buyer, checkout_id)}
            ids |= {p.order_id for p in payments if p.stripe_payment_intent_id in told}
            orders = list(Order.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
            untold = {p.stripe_payment_intent_id for p in payments if p.order_id in ids} - told
            if untold - {None, ""}:
                continue  # the pay page made an intent meanwhile: tell it, then again
            for order in orders:
                for field, value in changes.items():
                    setattr(order, field, value)
                order.save(update_fields=[*changes, "updated_at"])
            if orders:
                SavedAddress.objects.update_or_create(buyer=buyer, defaults=address.as_dict())
            return len(orders)
    raise AddressLocked("The checkout changed while saving the address: please try again.")


def _shippable(buyer: User, checkout_id: uuid.UUID):
    return Order.objects.filter(
        buyer=buyer,
        checkout_id=checkout_id,
        status__in=PAYABLE_ORDER_STATUSES,
        requires_shipping=True,
    ).order_by("pk")


def _intents_ship_to(orders: list[Order], address: Address, *, told: set[str]) -> set[str]:
    """(No lock held) Tell the orders' PaymentIntents not in `told` the new address;
    returns every intent told. Refused (AddressLocked) once a payment is made."""
    from payments import gateway

    prepared = list(
        Payment.objects.filter(order__in=orders, stripe_payment_intent_id__gt="").order_by("pk")
    )
    if any(p.status not in PAYABLE_PAYMENT_STATUSES for p in prepared):
        raise AddressLocked("This checkout is already paid: its address can't change.")
    # A key per change, not per address: changing A → B → A within Stripe's 24 hours
    # would otherwise be answered with the first A's stored result and do nothing.
    change = uuid.uuid4().hex
    intents = {payment.stripe_payment_intent_id or "" for payment in prepared}
    for intent in sorted(intents - told):
        gateway.payment_intent_shipping_update(
            payment_intent=intent,
            shipping=address.to_stripe(),
            idempotency_key=f"{intent}-shipping-{change}",
        )
    return told | intents
