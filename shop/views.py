import re
from urllib.parse import urlsplit

from django.contrib import messages
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Cast, Concat, LPad
from django.http import Http404, HttpRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe
from rest_framework.request import Request

from accounts.selectors import can_shop

from . import selectors
from .cart import Cart, CartError, parse_quantity
from .cart_checkout import cart_changed, cart_held, cart_settle
from .models import Product, Storefront
from .pagination import CataloguePage, PriceUp, catalogue_page
from .prices import currency_choices

# Minor units of two currencies do not compare ($10.00 is 1000, ¥1,500 is 1500): a
# list sorted by price in several currencies is grouped by currency, then by price.
# One key, the currency then the price zero-padded, so the cursor stays one value
# ("usd000000000000001500") and a page never restarts a currency or skips one.
PRICE_DIGITS = 18  # PriceUp's positions are at most 18 digits too
CURRENCY_PRICE = Concat(
    "currency",
    LPad(Cast("price_amount", CharField()), PRICE_DIGITS, Value("0")),
    output_field=CharField(),
)
_CURRENCY_PRICE_RE = re.compile(rf"[a-z]{{3}}\d{{{PRICE_DIGITS}}}", re.ASCII)


class CurrencyThenPriceUp(PriceUp):
    ordering = ("currency_price", "id")

    def position_ok(self, position: object) -> bool:
        return isinstance(position, str) and _CURRENCY_PRICE_RE.fullmatch(position) is not None


class CurrencyThenPriceDown(CurrencyThenPriceUp):
    ordering = ("-currency_price", "-id")


CURRENCY_THEN_PRICE = {"price_asc": CurrencyThenPriceUp, "price_desc": CurrencyThenPriceDown}


def _sort(request) -> str:
    sort = request.GET.get("sort", "")
    # An unknown order (an old or edited link) shows the newest first, the default.
    return sort if sort in selectors.SORTS else "newest"


def _page(
    products: QuerySet[Product], request: HttpRequest, sort: str, *, one_currency: bool = False
) -> CataloguePage:
    """The catalogue page in the `sort` order; by price, currency by currency unless
    the products are in `one_currency` (then the price index serves the order)."""
    pager_class = None if one_currency else CURRENCY_THEN_PRICE.get(sort)
    if pager_class is None:
        return catalogue_page(products, request, sort)
    pager = pager_class()
    products = products.annotate(currency_price=CURRENCY_PRICE)
    rows = pager.paginate_queryset(products, Request(request)) or []
    previous, following = pager.get_previous_link(), pager.get_next_link()
    return CataloguePage(
        object_list=rows,
        # Relative links, as catalogue_page's: the absolute ones carry the Host header.
        previous_query=urlsplit(previous).query if previous else "",
        next_query=urlsplit(following).query if following else "",
    )


def _catalogue_currencies() -> list[tuple[str, str]]:
    """The shop's currencies (SHOP_CURRENCIES) that some buyable product is priced in."""
    present = set(
        Product.objects.filter(selectors.BUYABLE)
        .order_by()
        .values_list("currency", flat=True)
        .distinct()
    )
    return [(code, label) for code, label in currency_choices() if code in present]


@require_safe
def product_list(request):
    search = request.GET.get("q", "").strip()[:100]
    category = request.GET.get("category", "").strip()[:90]
    currencies = _catalogue_currencies()
    currency = request.GET.get("currency", "").strip().lower()
    # An unknown currency (an edited link) shows every one, as "All currencies" does.
    currency = currency if currency in dict(currency_choices()) else ""
    sort = _sort(request)
    products = selectors.product_list(
        search=search, category=category, currency=currency, sort=sort
    )
    context = {
        "page": _page(products, request, sort, one_currency=bool(currency)),
        "search": search,
        "category": category,
        "categories": selectors.category_list(),
        "currency": currency,
        # A choice only where there is one to make.
        "currencies": currencies if len(currencies) > 1 else [],
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
        "page": _page(products, request, sort),
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
