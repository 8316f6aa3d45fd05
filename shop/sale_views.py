"""A contractor's sale: its detail (items, the buyer's shipping address) and fulfilment,
with the carrier and tracking number of goods that ship, which can still be added or
corrected once the sale is fulfilled."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.statemachine import InvalidTransition

from . import selectors
from .forms import TrackingForm
from .models import Order
from .services import order_fulfil
from .shipping_forms import FulfilForm
from .tracking import TRACKABLE_STATUSES, TrackingRefused, order_tracking_update


def _sale(request, public_id) -> Order:
    try:
        return selectors.sale_get(seller=request.user, public_id=public_id)
    except Order.DoesNotExist as exc:
        raise Http404("No such order.") from exc  # anyone else's sale is not there


def _detail(request, order: Order, *, form=None, tracking_form=None, status: int = 200):
    trackable = order.requires_shipping and order.status in TRACKABLE_STATUSES
    if trackable and tracking_form is None:
        tracking_form = TrackingForm(
            initial={"carrier": order.carrier, "tracking_number": order.tracking_number},
            auto_id="tracking_%s",  # the fulfil form's ids are the default ones
        )
    context = {
        "order": order,
        "form": form or FulfilForm(),
        "tracking_form": tracking_form if trackable else None,
        "money": selectors.sale_money(order),
    }
    return render(request, "shop/sale_detail.html", context, status=status)


@login_required
def sale_detail(request, public_id):
    return _detail(request, _sale(request, public_id))


@login_required
@require_POST
def sales_fulfil(request, public_id):
    """Mark the sale fulfilled (from the list, or from its detail with a carrier and
    tracking number); back to where the contractor clicked."""
    order = _sale(request, public_id)
    form = FulfilForm(request.POST)
    if not form.is_valid():
        return _detail(request, order, form=form, status=400)
    try:
        order_fulfil(order_id=order.pk, seller=request.user, **form.cleaned_data)
    except InvalidTransition:
        messages.error(
            request, f"This order cannot be fulfilled: it is {order.get_status_display().lower()}."
        )
    else:
        messages.success(request, "Marked fulfilled. The buyer's card is being charged.")
    if request.POST.get("back") == "detail":
        return redirect("shop:sale_detail", public_id=order.public_id)
    return redirect("shop:sales_list")


@login_required
@require_POST
def sale_tracking(request, public_id):
    """Add or correct the carrier and tracking number of a fulfilled sale that ships
    (shop.tracking); the buyer is told when they change."""
    order = _sale(request, public_id)
    form = TrackingForm(request.POST, auto_id="tracking_%s")
    if not form.is_valid():
        return _detail(request, order, tracking_form=form, status=400)
    try:
        _, changed = order_tracking_update(
            order_id=order.pk, seller=request.user, **form.cleaned_data
        )
    except TrackingRefused as exc:
        messages.error(request, str(exc))
    else:
        if changed:
            messages.success(request, "Tracking saved. The buyer has been told.")
        else:
            messages.info(request, "The tracking was already this: nothing changed.")
    return redirect("shop:sale_detail", public_id=order.public_id)
