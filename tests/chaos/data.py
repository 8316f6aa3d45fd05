"""The shop's data for a scenario, made fast and untimed: onboarded contractors, a
buyer, staff, and orders authorised at the sandbox.

As bench/checkout.py does: connected accounts made at the sandbox with their
requirements cleared, profiles written with the ORM, checkouts through the shop's
own services (`checkout_create`, `payment_intent_ensure`), and the card confirmed
with the secret key where Stripe.js would confirm it in a browser. Runs in the
suite's process, with the stack's settings (tests/chaos/run.py).
"""

from __future__ import annotations

import itertools
import time
import uuid

from accounts.models import User, UserProfile
from payments.models import Payment
from payments.services.intents import payment_apply_intent, payment_intent_ensure
from shop.models import Order, Product
from shop.services import checkout_create, order_fulfil

from .sandbox import Sandbox

PRICES = (1250, 2000, 3399, 4500, 999)  # minor units, varied so amounts are told apart
_serial = itertools.count(1)


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def contractors(sandbox: Sandbox, count: int) -> list[User]:
    """Contractors who finished onboarding: their accounts can take charges."""
    made = []
    for _ in range(count):
        account = sandbox.api("POST", "/v1/accounts", {"type": "express", "country": "US"})
        sandbox.control("POST", f"accounts/{account['id']}/requirements", {"currently_due": []})
        tag = _tag()
        user = User.objects.create(email=f"seller-{tag}@chaos.invalid", password="!")
        UserProfile.objects.create(
            user=user,
            role=UserProfile.Role.CONTRACTOR,
            display_name=f"Seller {tag}",
            stripe_id=account["id"],
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
        )
        made.append(user)
    return made


def buyer() -> User:
    user = User.objects.create(email=f"buyer-{_tag()}@chaos.invalid", password="!")
    UserProfile.objects.create(user=user, role=UserProfile.Role.BUYER, display_name="Buyer")
    return user


def staff() -> User:
    user = User.objects.create(
        email=f"staff-{_tag()}@chaos.invalid", password="!", is_staff=True, is_superuser=True
    )
    UserProfile.objects.create(user=user, role=UserProfile.Role.BUYER, display_name="Staff")
    return user


def _product(seller: User) -> Product:
    serial = next(_serial)
    return Product.objects.create(
        seller=seller,
        title=f"Chaos item {serial}",
        slug=f"chaos-item-{_tag()}-{serial}",
        price_amount=PRICES[serial % len(PRICES)],
        currency="usd",
        seller_can_charge=True,
    )


def authorised_orders(
    sandbox: Sandbox, buyer: User, sellers: list[User], count: int
) -> list[Order]:
    """`count` one-item orders, spread over `sellers`, each authorised at the sandbox
    (requires_capture) and recorded as authorised here."""
    orders = []
    for seller in itertools.islice(itertools.cycle(sellers), count):
        product = _product(seller)
        checkout_id = checkout_create(buyer=buyer, items=[(product.pk, 1)])
        payment = Payment.objects.get(order__checkout_id=checkout_id)
        intent = payment_intent_ensure(payment_id=payment.pk)
        confirm = f"/v1/payment_intents/{intent['id']}/confirm"
        confirmed = sandbox.api("POST", confirm, {"payment_method": "pm_card_visa"})
        payment_apply_intent(confirmed)
        orders.append(Order.objects.get(pk=payment.order_id))
    not_authorised = [o.pk for o in orders if o.status != Order.Status.AUTHORIZED]
    if not_authorised:
        raise RuntimeError(f"orders not authorised after set-up: {not_authorised}")
    return orders


def captured_payments(orders: list[Order], timeout: float = 60) -> list[Payment]:
    """Fulfil authorised orders and wait for the worker to capture them (set-up: the
    capture is the worker's, as in production; this process only waits)."""
    for order in orders:
        order_fulfil(order_id=order.pk, seller=order.seller)
    payments = Payment.objects.filter(order__in=orders)
    deadline = time.monotonic() + timeout
    while payments.exclude(status=Payment.Status.CAPTURED).exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"set-up: orders not captured within {timeout:.0f} s")
        time.sleep(0.1)
    return list(payments.order_by("pk"))
