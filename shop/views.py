from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from accounts.selectors import can_shop

from . import selectors
from .cart import Cart, CartError, parse_quantity
from .cart_checkout import cart_changed, cart_held, cart_settle
from .models import Product, Storefront
from .pagination import catalogue_page


def _sort(request) -> str:
    sort = request.GET.get("sort", "")
    # An unknown order (an old or edited link) shows the newest first, the default.
    return sort if sort in selectors.SORTS else "newest"


@require_safe
def product_list(request):
    search = request.GET.get("q", "").strip()[:100]
    category = request.GET.get("category", "").strip()[:90]
    sort = _sort(request)
    products = selectors.product_list(search=search, category=category, sort=sort)
    context = {
        "page": catalogue_page(products, request, sort),
        "search": search,
        "category": category,
        "categories": selectors.category_list(),
        "sort": sort,
        "sorts": selectors.SORT_LABELS.items(),
    }
    return render(request, "shop/product_list.html", context)


@require_safe
def storefront(request, slug):
    try:
        shop = selectors.storefront_get(slug=slug)
    except Storefront.DoesNotExist:
        raise Http404("No such shop.") from None
    sort = _sort(request)
    products = selectors.product_list(seller_id=shop.seller_id, sort=sort)
    context = {
        "shop": shop,
        "page": catalogue_page(products, request, sort),
        "sort": sort,
        "sorts": selectors.SORT_LABELS.items(),
        "open": shop.seller.profile.can_take_charges,
    }
    return render(request, "shop/storefront.html", context)


@require_safe
def product_detail(request, slug):
    try:
        product = selectors.product_get(slug=slug)
    except Product.DoesNotExist:
        raise Http404("No such product.") from None
    context = {
        "product": product,
        "buyable": selectors.product_is_buyable(product),
        "in_cart": Cart(request.session).quantity(product.pk),
    }
    return render(request, "shop/product_detail.html", context)


def _next_url(request, default):
    """Where to go after a cart change: a same-site `next` field, else `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_POST
def cart_add(request, product_id):
    try:
        product = selectors.product_get_for_cart(product_id=product_id)
    except Product.DoesNotExist:
        raise Http404("No such product.") from None
    if not can_shop(request.user):
        messages.error(request, "Contractor accounts can't buy: use a buyer account to shop.")
        return redirect(product.get_absolute_url())
    cart = Cart(request.session)
    try:
        quantity = parse_quantity(request.POST.get("quantity", "1"))
        held = cart_held(cart, request.user).get(product.pk, 0) if product.stock is not None else 0
        cart.add(product, quantity, held=held)
    except CartError as error:
        messages.error(request, str(error))
    else:
        cart_changed(cart, request.user, product.currency)
        noun = "item" if quantity == 1 else "items"
        messages.success(request, f"Added {quantity} {noun} of “{product.title}” to your cart.")
    return redirect(_next_url(request, product.get_absolute_url()))


@require_safe
def cart_detail(request):
    cart = Cart(request.session)
    if request.user.is_authenticated:
        for notice in cart_settle(cart, request.user):
            messages.success(request, notice)
    cart.stock_check(cart_held(cart, request.user))
    groups = cart.groups()
    for notice in cart.notices:
        messages.warning(request, notice)
    currencies = cart.currency_groups()
    context = {
        "groups": groups,
        "currencies": currencies,
        "totals": cart.totals(),
        "mixed_currencies": len(currencies) > 1,
        "item_count": sum(line.quantity for group in groups for line in group.lines),
    }
    return render(request, "shop/cart.html", context)


def _changed_currency(product_id: int) -> str:
    return Product.objects.filter(pk=product_id).values_list("currency", flat=True).first() or ""


@require_POST
def cart_update(request, product_id):
    cart = Cart(request.session)
    before = cart.quantity(product_id)
    try:
        cart.set_quantity(product_id, request.POST.get("quantity", ""))
    except CartError as error:
        messages.error(request, str(error))
    else:
        if cart.quantity(product_id) != before:
            cart_changed(cart, request.user, _changed_currency(product_id))
        messages.success(request, "Your cart was updated.")
    return redirect("shop:cart")


@require_POST
def cart_remove(request, product_id):
    cart = Cart(request.session)
    if cart.remove(product_id):
        cart_changed(cart, request.user, _changed_currency(product_id))
        messages.success(request, "The item was removed from your cart.")
    else:
        messages.info(request, "That item was not in your cart.")
    return redirect("shop:cart")
