"""Buyers' orders and contractors' sales."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.statemachine import InvalidTransition

from . import selectors
from .models import Order
from .services import order_fulfil


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
    return render(request, "shop/order_detail.html", {"order": order})


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


@login_required
@require_POST
def sales_fulfil(request, public_id):
    try:
        order = selectors.sale_get(seller=request.user, public_id=public_id)
    except Order.DoesNotExist as exc:
        raise Http404("No such order.") from exc
    try:
        order_fulfil(order_id=order.pk, seller=request.user)
    except InvalidTransition:
        messages.error(
            request, f"This order cannot be fulfilled: it is {order.get_status_display().lower()}."
        )
    else:
        messages.success(request, "Marked fulfilled. The buyer's card is being charged.")
    return redirect("shop:sales_list")
