"""A contractor's sale: its detail (items, the buyer's shipping address) and fulfilment,
with the carrier and tracking number of goods that ship."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.statemachine import InvalidTransition

from . import selectors
from .models import Order
from .services import order_fulfil
from .shipping_forms import FulfilForm


def _sale(request, public_id) -> Order:
    try:
        return selectors.sale_get(seller=request.user, public_id=public_id)
    except Order.DoesNotExist as exc:
        raise Http404("No such order.") from exc  # anyone else's sale is not there


@login_required
def sale_detail(request, public_id):
    order = _sale(request, public_id)
    context = {"order": order, "form": FulfilForm(), "money": selectors.sale_money(order)}
    return render(request, "shop/sale_detail.html", context)


@login_required
@require_POST
def sales_fulfil(request, public_id):
    """Mark the sale fulfilled (from the list, or from its detail with a carrier and
    tracking number); back to where the contractor clicked."""
    order = _sale(request, public_id)
    form = FulfilForm(request.POST)
    if not form.is_valid():
        context = {"order": order, "form": form, "money": selectors.sale_money(order)}
        return render(request, "shop/sale_detail.html", context, status=400)
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
