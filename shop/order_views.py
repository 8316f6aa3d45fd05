"""Buyers' orders and contractors' sales."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.statemachine import InvalidTransition
from payments.models import Payment

from . import selectors
from .models import Order
from .services import order_cancel as order_cancel_service


@login_required
def order_list(request):
    page = Paginator(selectors.order_list(buyer=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "shop/order_list.html", {"page": page})


@login_required
def order_detail(request, public_id):
    try:
        order = selectors.order_get(buyer=request.user, public_id=public_id)
    except Order.DoesNotExist as exc:
        raise Http404("No such order.") from exc
    context = {
        "order": order,
        "cancelable": order.status in selectors.BUYER_CANCELABLE_STATUSES,
        "canceling": _cancel_in_progress(order),
    }
    return render(request, "shop/order_detail.html", context)


def _cancel_in_progress(order: Order) -> bool:
    """A canceled order whose card hold is still being released (prefetched rows)."""
    return order.status == Order.Status.CANCELED and any(
        payment.action == Payment.Action.CANCEL and payment.status == Payment.Status.AUTHORIZED
        for payment in order.payments.all()
    )


@login_required
@require_http_methods(["GET", "POST"])
def order_cancel(request, public_id):
    """GET: ask the buyer to confirm; POST: cancel the order (shop.services.order_cancel)."""
    try:
        order = selectors.order_get(buyer=request.user, public_id=public_id)
    except Order.DoesNotExist as exc:
        raise Http404("No such order.") from exc
    if request.method == "GET":
        if order.status not in selectors.BUYER_CANCELABLE_STATUSES:
            messages.info(request, _not_cancelable(order))
            return redirect("shop:order_detail", public_id=order.public_id)
        return render(request, "shop/order_cancel.html", {"order": order})
    try:
        order_cancel_service(order_id=order.pk, buyer=request.user)
    except InvalidTransition:
        messages.error(request, _not_cancelable(order))
    else:
        if order.status == Order.Status.AUTHORIZED:
            messages.success(
                request, "Your order is canceled. The hold on your card is being released."
            )
        else:
            messages.success(request, "Your order is canceled. Nothing was charged.")
    return redirect("shop:order_detail", public_id=order.public_id)


def _not_cancelable(order: Order) -> str:
    status = order.get_status_display().lower()
    return f"This order can no longer be canceled: it is {status}."


@login_required
def sales_list(request):
    status = request.GET.get("status", "")
    # An unknown status shows every sale, as the "All statuses" choice does.
    orders = selectors.sale_list(
        seller=request.user, status=status if status in Order.Status.values else ""
    )
    page = Paginator(orders, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "shop/sales_list.html",
        {"page": page, "status": status, "statuses": Order.Status.choices},
    )
