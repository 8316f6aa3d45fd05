"""Order services: checkout, fulfilment, and the only code that changes an order's status."""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import User, UserProfile
from core.commit import after_commit
from core.statemachine import InvalidTransition, transition, transition_locked
from notifications import events as notify
from payments.models import Payment

from .cart import MAX_QUANTITY, QUANTITY_MESSAGE
from .fees import platform_fee
from .models import Order, OrderItem, Product
from .selectors import BUYER_CANCELABLE_STATUSES, PAYABLE_ORDER_STATUSES
from .stock import OutOfStock, stock_lock, stock_take

# Stripe's largest card charge in two-decimal currencies ($999,999.99).
MAX_ORDER_AMOUNT = 99_999_999
# Orders still waiting for the buyer's card: their checkout can be paid, replaced
# or abandoned.
UNPAID_STATUSES = PAYABLE_ORDER_STATUSES


class CheckoutError(Exception):
    """Why a cart cannot be checked out, in words fit for the buyer."""


def order_transition(
    *, order_id: int, status: str, changes: Mapping[str, Any] | None = None
) -> tuple[Order, bool]:
    """Move an order to `status` under a row lock (call inside transaction.atomic)."""
    return transition(Order, order_id, status, changes=changes)


def _checked_quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CheckoutError("Quantity must be a whole number.")
    if not 1 <= value <= MAX_QUANTITY:
        raise CheckoutError(QUANTITY_MESSAGE)
    return value


def checkout_create(
    *, buyer: User, items: Iterable[tuple[int, int]], replaces: uuid.UUID | None = None
) -> uuid.UUID:
    """Turn (product_id, quantity) pairs into one pending order per contractor.

    Every amount comes from the database, never from the request; the platform
    fee comes from the fee policy. The quantities are taken off the products' stock
    (shop/stock.py), or the whole checkout is refused. Each order gets a Payment row;
    its PaymentIntent is created afterwards, outside this transaction.

    Returns the checkout id shared by the orders. The buyer's unpaid checkout of
    exactly these lines is returned instead of a new one (Back and Checkout again, a
    double click, a retry after a decline). `replaces`: the checkout this cart made
    before; unless it is the one returned, its unpaid orders are canceled (their
    intents too, and their stock given back) before the new one takes its stock.
    """
    quantities = _checkout_quantities(items)
    _checkout_buyer_check(buyer)
    products = _checkout_products(buyer=buyer, quantities=quantities)
    with transaction.atomic():
        # One checkout at a time per buyer: parallel submits of one cart (a double
        # click, several tabs) wait here, then find the first one's checkout below.
        list(User.objects.select_for_update().filter(pk=buyer.pk).values_list("pk"))
        wanted = {(pk, quantities[pk], products[pk].price_amount) for pk in quantities}
        existing = _open_checkout_with(buyer=buyer, lines=wanted)
        replaced: list[Order] = []
        if replaces is not None and replaces != existing:
            replaced = _unpaid_orders_lock(buyer=buyer, checkout_id=replaces)
        new_products = () if existing is not None else quantities.keys()
        _orders_cancel(replaced, Order.CancelReason.REPLACED, also_lock=new_products)
        if existing is not None:
            return existing
        checkout_id = uuid.uuid4()
        try:
            taken = stock_take(quantities, products)
        except OutOfStock as exc:
            raise CheckoutError(str(exc)) from exc
        for seller_products in _by_seller(products.values()):
            _order_create(
                checkout_id=checkout_id,
                buyer=buyer,
                products=seller_products,
                quantities=quantities,
                taken=taken,
            )
    return checkout_id


def _checkout_quantities(items: Iterable[tuple[int, int]]) -> dict[int, int]:
    """{product id: quantity}, repeated lines added up; refuses bad or empty carts."""
    quantities: dict[int, int] = defaultdict(int)
    for product_id, quantity in items:
        quantities[int(product_id)] += _checked_quantity(quantity)
    if not quantities:
        raise CheckoutError("Your cart is empty.")
    if any(q > MAX_QUANTITY for q in quantities.values()):
        raise CheckoutError(QUANTITY_MESSAGE)
    return quantities


def _checkout_buyer_check(buyer: User) -> None:
    profile = getattr(buyer, "profile", None)
    if profile is None or profile.role != UserProfile.Role.BUYER:
        raise CheckoutError("Only buyer accounts can check out. Log in as a buyer.")


def _checkout_products(*, buyer: User, quantities: Mapping[int, int]) -> dict[int, Product]:
    """The products to buy, by id, once each can be bought by this buyer, in one currency."""
    products = Product.objects.select_related("seller__profile").in_bulk(list(quantities))
    for product_id in quantities:
        _checkout_product_check(products.get(product_id), buyer=buyer)
    if len({p.currency for p in products.values()}) > 1:
        raise CheckoutError(
            "Items in different currencies must be paid separately: "
            "remove the items in one currency and check out again."
        )
    return products


def _checkout_product_check(product: Product | None, *, buyer: User) -> None:
    if product is None:
        raise CheckoutError("A product in your cart no longer exists.")
    seller_profile = product.seller.profile
    if not (product.active and seller_profile.charges_enabled and seller_profile.stripe_id):
        raise CheckoutError(f"“{product.title}” cannot be bought right now.")
    if product.seller_id == buyer.pk:
        raise CheckoutError("You cannot buy your own product.")


def _by_seller(products: Iterable[Product]) -> list[list[Product]]:
    """The products grouped by contractor: one order each."""
    by_seller: dict[int, list[Product]] = defaultdict(list)
    for product in products:
        by_seller[product.seller_id].append(product)
    return list(by_seller.values())


def _order_create(
    *,
    checkout_id: uuid.UUID,
    buyer: User,
    products: list[Product],
    quantities: Mapping[int, int],
    taken: Mapping[int, int],
) -> Order:
    """One contractor's pending order, its items (with the stock each took) and its
    Payment row (in the caller's transaction)."""
    amount = sum(p.price_amount * quantities[p.pk] for p in products)
    if amount > MAX_ORDER_AMOUNT:
        raise CheckoutError("This order is too large to pay by card.")
    seller = products[0].seller
    fee = platform_fee(amount)
    order = Order.objects.create(
        checkout_id=checkout_id,
        buyer=buyer,
        seller=seller,
        amount=amount,
        fee_amount=fee,
        currency=products[0].currency,
        stock_held=any(taken.get(p.pk) for p in products),
        requires_shipping=any(p.kind == Product.Kind.SHIPPED for p in products),
    )
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            product=p,
            title=p.title,
            unit_amount=p.price_amount,
            quantity=quantities[p.pk],
            stock_reserved=taken.get(p.pk, 0),
        )
        for p in products
    )
    Payment.objects.create(
        order=order,
        amount=amount,
        application_fee_amount=fee,
        currency=order.currency,
        destination_account=seller.profile.stripe_id,
    )
    return order


def _open_checkout_with(*, buyer: User, lines: set[tuple[int, int, int]]) -> uuid.UUID | None:
    """The buyer's unpaid checkout of exactly these (product, quantity, unit price)
    lines, if there is one: submitting the same cart again returns to it, after a
    declined card too."""
    open_checkouts = (
        Order.objects.filter(buyer=buyer, status__in=UNPAID_STATUSES)
        .values_list("checkout_id", flat=True)
        .distinct()
    )
    found: dict[uuid.UUID, set[tuple[int, int, int]]] = defaultdict(set)
    settled: set[uuid.UUID] = set()
    for checkout_id, status, product_id, quantity, unit in OrderItem.objects.filter(
        order__checkout_id__in=list(open_checkouts)
    ).values_list("order__checkout_id", "order__status", "product_id", "quantity", "unit_amount"):
        found[checkout_id].add((product_id, quantity, unit))
        if status not in UNPAID_STATUSES:
            settled.add(checkout_id)  # part of it was paid or canceled: not the same purchase
    for checkout_id, checkout_lines in found.items():
        if checkout_id not in settled and checkout_lines == lines:
            return checkout_id
    return None


# --- Ending orders before they are paid or fulfilled ---------------------------------

# Stripe's cancellation_reason for each of ours.
_STRIPE_CANCEL_REASONS: dict[str, str] = {
    Order.CancelReason.REPLACED: "requested_by_customer",
    Order.CancelReason.BUYER: "requested_by_customer",
    Order.CancelReason.ABANDONED: "abandoned",
}


def order_cancel(*, order_id: int, buyer: User) -> Order:
    """The buyer cancels one of their orders that is unpaid, or authorised and not yet
    fulfilled.

    The order is canceled at once (the contractor can no longer fulfil it) and its
    stock given back; releasing the hold on the card is a row (the payment's
    `cancel` action, core/outbox.py) that a worker takes to Stripe after the commit.
    The contractor, who was told about an authorised order, is told it is canceled.
    Canceling twice changes nothing; any other status raises InvalidTransition.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.buyer_id != buyer.pk:
            raise PermissionError("Only the order's buyer can cancel it.")
        if order.status == Order.Status.CANCELED:
            return order
        if order.status not in BUYER_CANCELABLE_STATUSES:
            raise InvalidTransition("Order", order.status, Order.Status.CANCELED)
        _orders_cancel([order], Order.CancelReason.BUYER)
    return order


def checkout_cancel(*, buyer: User, checkout_id: uuid.UUID, reason: str) -> int:
    """Cancel the checkout's unpaid orders (the cart changed, or nobody paid in time),
    their PaymentIntents and their hold on stock; returns how many orders.

    Orders already authorised are a purchase made: they stay.
    """
    with transaction.atomic():
        orders = _unpaid_orders_lock(buyer=buyer, checkout_id=checkout_id)
        _orders_cancel(orders, reason)
    return len(orders)


def _unpaid_orders_lock(*, buyer: User | int, checkout_id: uuid.UUID) -> list[Order]:
    """The checkout's unpaid orders, locked in id order (inside a transaction)."""
    return list(
        Order.objects.select_for_update()
        .filter(buyer=buyer, checkout_id=checkout_id, status__in=UNPAID_STATUSES)
        .order_by("pk")
    )


def _orders_cancel(orders: list[Order], reason: str, also_lock: Iterable[int] = ()) -> None:
    """Cancel locked orders: status and reason (Order.save gives their stock back),
    then ask for their payments' cancellation. `also_lock`: products the caller is
    about to take stock of, locked with these orders' own in one sorted pass."""
    from payments.services.intents import payment_cancel_request

    if not orders:
        return  # taking stock alone needs no lock first: stock_take goes in id order
    held = OrderItem.objects.filter(order__in=orders, stock_reserved__gt=0)
    stock_lock([*held.values_list("product_id", flat=True), *also_lock])
    for order in orders:
        was_authorized = order.status == Order.Status.AUTHORIZED
        transition_locked(order, Order.Status.CANCELED, changes={"cancel_reason": reason})
        payments = list(
            Payment.objects.filter(order_id=order.pk).exclude(
                status__in=[Payment.Status.CANCELED, Payment.Status.CAPTURED]
            )
        )
        for payment in payments:
            payment_cancel_request(payment_id=payment.pk, reason=_STRIPE_CANCEL_REASONS[reason])
        if was_authorized:
            # Told about the order when it was authorised: told it is off.
            after_commit(
                notify.order_status_changed,
                order,
                payments[0] if payments else None,
                Order.Status.CANCELED,
            )


def checkouts_abandon(*, now: datetime | None = None) -> int:
    """Cancel the orders nobody paid within CHECKOUT_ABANDON_MINUTES of their last
    change (nor tried to: a payment that moved since counts), and those whose card was
    declined with no new attempt for CHECKOUT_DECLINED_RELEASE_MINUTES, with their
    intents and stock; returns how many. Runs on Celery beat."""
    now = now or timezone.now()
    abandoned = now - timedelta(minutes=settings.CHECKOUT_ABANDON_MINUTES)
    declined = now - timedelta(minutes=settings.CHECKOUT_DECLINED_RELEASE_MINUTES)
    return _checkouts_cancel(_stale_unpaid(abandoned)) + _checkouts_cancel(
        _stale_declined(declined)
    )


def _checkouts_cancel(stale: QuerySet[Order]) -> int:
    """Cancel the `stale` orders, a checkout at a time; each is read again under its
    lock, so an order paid or tried again meanwhile no longer matches and stays."""
    checkouts = list(stale.order_by().values_list("buyer_id", "checkout_id").distinct()[:500])
    canceled = 0
    for buyer_id, checkout_id in checkouts:
        with transaction.atomic():
            orders = list(
                stale.select_for_update().filter(buyer_id=buyer_id, checkout_id=checkout_id)
            )
            _orders_cancel(orders, Order.CancelReason.ABANDONED)
        canceled += len(orders)
    return canceled


def _stale_unpaid(cutoff: datetime) -> QuerySet[Order]:
    return (
        Order.objects.filter(status__in=UNPAID_STATUSES, updated_at__lt=cutoff)
        .exclude(payments__updated_at__gte=cutoff)
        .order_by("pk")
    )


def _stale_declined(cutoff: datetime) -> QuerySet[Order]:
    """Orders whose latest attempt was declined before `cutoff`, with none since.

    A decline leaves the order `failed` and its payment `pending` with the decline's
    code (payments.services.intents); a new attempt moves the payment (3-D Secure, an
    authorisation, a decline with another code) and so its `updated_at`. The stock is
    not released at the decline itself: the intent stays confirmable, and the buyer
    may retry on the same page. Cancelling the order queues the intent's cancellation
    (outbox) in the transaction that releases the stock, so a retry after it is
    voided, never a second sale of the released item.
    """
    declined = Payment.objects.filter(order=OuterRef("pk"), status=Payment.Status.PENDING).exclude(
        last_error_code=""
    )
    # Exists() rather than a join, so the lock taken on these rows is the orders' alone.
    return _stale_unpaid(cutoff).filter(Exists(declined), status=Order.Status.FAILED)


def order_fulfil(
    *, order_id: int, seller: User, carrier: str = "", tracking_number: str = ""
) -> Order:
    """The contractor delivered: mark the order fulfilled and ask for its capture.

    The capture is a row (the payment's action, core/outbox.py) written in the same
    transaction, handed to a worker once it commits: the contractor's click never
    waits on Stripe, and neither a broker outage nor a lost message strands it.
    `carrier` and `tracking_number` (shipped goods) are saved with the status, for
    the buyer's order page and the email that tells them it is on its way.
    """
    from payments.services.intents import payment_capture_request

    with transaction.atomic():
        # The payments before their order, in the order payment_apply_intent locks
        # them: two transactions taking the same rows the other way round deadlock.
        list(Payment.objects.select_for_update().filter(order_id=order_id).order_by("pk"))
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.seller_id != seller.pk:
            raise PermissionError("Only the order's contractor can fulfil it.")
        if order.status == Order.Status.FULFILLED:
            return order
        payment = order.payments.filter(status=Payment.Status.AUTHORIZED).first()
        if payment is None or order.status != Order.Status.AUTHORIZED:
            raise InvalidTransition("Order", order.status, Order.Status.FULFILLED)
        tracking = {"carrier": carrier, "tracking_number": tracking_number}
        # A service sends nothing to follow (shop.tracking refuses it the same way).
        changes = {k: v for k, v in tracking.items() if v} if order.requires_shipping else {}
        order, _ = order_transition(
            order_id=order.pk,
            status=Order.Status.FULFILLED,
            changes={**changes, "fulfilled_at": timezone.now()},
        )
        payment_capture_request(payment_id=payment.pk)
    return order


def product_save(*, product: Product, update_fields: Iterable[str] | None = None) -> Product:
    """Save a product (new or changed), with its copy of whether the seller can take charges.

    Every product write goes through here (admin, seeding, tests' factories), so the
    catalogue's `seller_can_charge` filter is right from the first save.
    """
    profile = UserProfile.objects.filter(user_id=product.seller_id).first()
    product.seller_can_charge = bool(profile and profile.can_take_charges)
    if update_fields is not None:
        update_fields = {*update_fields, "seller_can_charge"}
    product.save(update_fields=update_fields)
    return product


def seller_products_sync(*, profile: UserProfile) -> int:
    """Bring the seller's products' copy of "can take charges" in line with the profile
    (after Stripe changed the account); returns how many products changed."""
    can_charge = profile.can_take_charges
    return (
        Product.objects.filter(seller_id=profile.user_id)
        .exclude(seller_can_charge=can_charge)
        .update(seller_can_charge=can_charge)
    )
