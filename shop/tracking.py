"""The carrier and tracking number of a shipped sale after it was fulfilled.

Fulfilling takes them (shop.services.order_fulfil), but a parcel is often handed to
the carrier after the click, or the number was mistyped: the contractor adds or
corrects them here, and the buyer is told, since the capture email that carried the
first ones may already be gone.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from notifications import events as notify

from .forms import TrackingForm
from .models import Order

# Sold and on its way: a partly refunded order may still be in the post. Before
# fulfilment the fulfil form takes them; a canceled or refunded order ships nothing.
TRACKABLE_STATUSES = frozenset(
    {Order.Status.FULFILLED, Order.Status.CAPTURED, Order.Status.PARTIALLY_REFUNDED}
)


class TrackingRefused(Exception):
    """This order takes no tracking now; the message is fit to show the contractor."""


def order_tracking_update(
    *, order_id: int, seller: User, carrier: str, tracking_number: str
) -> tuple[Order, bool]:
    """Set the carrier and tracking number of a fulfilled order that ships; returns the
    order and whether anything changed (the buyer is notified only then).

    The values are checked by the fulfil form's rules, one of them given (raises
    ValidationError), so no caller stores what the sale page would refuse. Under the
    order's row lock: two corrections at once end as the later one, each told once.
    """
    form = TrackingForm({"carrier": carrier, "tracking_number": tracking_number})
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    values = {name: form.cleaned_data[name] for name in ("carrier", "tracking_number")}
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.seller_id != seller.pk:
            raise PermissionError("Only the order's contractor can change its tracking.")
        if not order.requires_shipping:
            raise TrackingRefused("This order is a service: it has nothing to track.")
        if order.status not in TRACKABLE_STATUSES:
            status = order.get_status_display().lower()
            raise TrackingRefused(f"Tracking can't be changed: this order is {status}.")
        changed = [name for name, value in values.items() if getattr(order, name) != value]
        if not changed:
            return order, False  # the same again (a resubmitted form): nobody is told twice
        for name in changed:
            setattr(order, name, values[name])
        order.save(update_fields=[*changed, "updated_at"])
        notify.order_tracking_changed(order)
    return order, True
