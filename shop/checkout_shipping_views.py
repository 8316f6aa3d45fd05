"""The checkout's address step: where shipped goods go, asked before the pay step.

The pay page sends the buyer here while an order of the checkout ships without an
address (checkout_views.checkout_pay), so the PaymentIntent is always made with
the address as its `shipping`. The form is filled with the address the buyer
last used (shop.models.SavedAddress).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from payments import gateway

from .shipping import (
    Address,
    AddressLocked,
    checkout_ship_to,
    checkout_shipping_orders,
    saved_address_get,
)
from .shipping_forms import ShippingAddressForm


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def checkout_shipping(request, checkout_id):
    """GET: the address form; POST: keep the address on the checkout's orders (and
    as the buyer's for next time), then go on to pay."""
    # Only the buyer's own orders: anyone else's checkout id finds none.
    orders = checkout_shipping_orders(buyer=request.user, checkout_id=checkout_id)
    if not orders:
        # Nothing ships, or nothing is left to pay (or not theirs): the pay page says which.
        return redirect("shop:checkout_pay", checkout_id=checkout_id)
    if request.method == "POST":
        form = ShippingAddressForm(request.POST)
        if form.is_valid():
            try:
                checkout_ship_to(
                    buyer=request.user, checkout_id=checkout_id, address=form.address()
                )
            except AddressLocked as exc:
                messages.info(request, str(exc))
            except gateway.GatewayError:
                # Nothing changed (Stripe first, then the orders): the form stays filled.
                form.add_error(
                    None,
                    "We couldn't update the payment's address just now. Please try again.",
                )
                return _form(request, form, orders, checkout_id, status=503)
            return redirect("shop:checkout_pay", checkout_id=checkout_id)
    else:
        current = Address.of_order(orders[0]) or saved_address_get(buyer=request.user)
        form = ShippingAddressForm(initial=current.as_dict() if current else None)
    return _form(request, form, orders, checkout_id)


def _form(request, form, orders, checkout_id, *, status: int = 200):
    context = {"form": form, "orders": orders, "checkout_id": checkout_id}
    return render(request, "shop/checkout_shipping.html", context, status=status)
