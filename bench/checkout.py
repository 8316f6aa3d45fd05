"""3. Checkout: server time without the sandbox's, SQL queries and Stripe calls per cart.

In this process, with Django's test client against the bench database and the real
sandbox (HTTP on loopback). A buyer's checkout is three requests:

    POST /checkout/                  orders and payments from the cart (no Stripe call)
    GET  /checkout/<id>/             the checkout's PaymentIntent (one, whatever the
                                     number of contractors), the saved cards beside it
    GET  /checkout/<id>/done/        the intent read back after Stripe.js confirmed it

(the confirmation itself goes from the browser to Stripe and is done here, untimed,
with the secret key: once per intent). Time spent inside `payments.gateway`
functions — the SDK and the sandbox — is measured separately and subtracted:
"server" is our own work. With the sandbox at 300 ms, each page's time in Stripe
calls is printed too: calls made side by side count once, so it is the buyer's wait
in round trips (issue #16: at most one per page, whatever the number of contractors).
"""

from __future__ import annotations

import functools
import json
import threading
import time
import types
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User, UserProfile
from payments import gateway
from payments.models import Payment
from shop.models import Product

from . import stack

CARTS = [(1, 1), (10, 1), (50, 1), (10, 5), (50, 5)]  # (items, contractors)
STEPS = ("start", "pay", "done")


class GatewayTimer:
    """Wraps every public function of payments.gateway to count its calls and the time
    during which at least one was in flight (calls made side by side count once)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._lock = threading.Lock()
        self._in_flight = 0
        self._busy_since = 0.0
        self._nesting = threading.local()  # a gateway function calling another counts once

    def install(self) -> None:
        for name, value in list(vars(gateway).items()):
            if (
                isinstance(value, types.FunctionType)
                and value.__module__ == gateway.__name__
                and not name.startswith("_")
                and name not in ("client", "reset_client", "decline_message")
            ):
                setattr(gateway, name, self._wrap(value))

    def _wrap(self, func):
        @functools.wraps(func)
        def timed(*args, **kwargs):
            depth = getattr(self._nesting, "depth", 0)
            self._nesting.depth = depth + 1
            if depth == 0:
                self._enter()
            try:
                return func(*args, **kwargs)
            finally:
                self._nesting.depth = depth
                if depth == 0:
                    self._leave()

        return timed

    def _enter(self) -> None:
        with self._lock:
            if self._in_flight == 0:
                self._busy_since = time.perf_counter()
            self._in_flight += 1
            self.calls += 1

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self.seconds += time.perf_counter() - self._busy_since

    def reset(self) -> None:
        self.seconds = 0.0
        self.calls = 0


@dataclass
class Step:
    wall_ms: float
    stripe_ms: float
    stripe_calls: int
    queries: int

    @property
    def server_ms(self) -> float:
        return self.wall_ms - self.stripe_ms


@dataclass
class CheckoutRow:
    items: int
    contractors: int
    latency_ms: int
    steps: dict[str, Step]

    @property
    def wall_ms(self) -> float:
        return sum(s.wall_ms for s in self.steps.values())

    @property
    def server_ms(self) -> float:
        return sum(s.server_ms for s in self.steps.values())

    @property
    def stripe_calls(self) -> int:
        return sum(s.stripe_calls for s in self.steps.values())

    def queries(self) -> str:
        return " / ".join(str(self.steps[s].queries) for s in STEPS)


def _sandbox(base: str, method: str, path: str, data: dict | None = None) -> dict:
    body = urllib.parse.urlencode(data or {}).encode() if data is not None else None
    headers = {"Authorization": f"Bearer {stack.BENCH_SECRET_KEY}"}
    if path.startswith("/_sandbox"):
        body = json.dumps(data or {}).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def setup(sandbox: str) -> tuple[User, list[list[Product]]]:
    """A buyer, and five onboarded contractors with 50, 10, 10, 10 and 10 products."""
    sellers = []
    for n in range(5):
        account = _sandbox(sandbox, "POST", "/v1/accounts", {"type": "express", "country": "US"})
        _sandbox(sandbox, "POST", f"/_sandbox/accounts/{account['id']}/requirements",
                 {"currently_due": []})  # fmt: skip
        user = User.objects.create(email=f"checkout-seller-{n}@bench.invalid", password="!")
        UserProfile.objects.create(
            user=user,
            role=UserProfile.Role.CONTRACTOR,
            display_name=f"Seller {n}",
            stripe_id=account["id"],
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
        )
        sellers.append(user)
    products = []
    for n, seller in enumerate(sellers):
        count = 50 if n == 0 else 10
        products.append(
            Product.objects.bulk_create(
                Product(
                    seller=seller,
                    title=f"Checkout item {n}-{i}",
                    slug=f"checkout-item-{n}-{i}",
                    price_amount=1000 + i,
                    currency="usd",
                    seller_can_charge=True,  # bulk_create skips product_save
                )
                for i in range(count)
            )
        )
    buyer = User.objects.create(email="checkout-buyer@bench.invalid", password="!")
    UserProfile.objects.create(user=buyer, role=UserProfile.Role.BUYER, display_name="Buyer")
    return buyer, products


def _cart(products: list[list[Product]], items: int, contractors: int) -> dict[str, int]:
    per = items // contractors
    return {str(p.pk): 1 for group in products[:contractors] for p in group[:per]}


def _step(client: Client, timer: GatewayTimer, method: str, path: str) -> tuple[Step, object]:
    timer.reset()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = getattr(client, method)(path)
        wall = time.perf_counter() - started
    return Step(wall * 1000, timer.seconds * 1000, timer.calls, len(captured)), response


def one_checkout(
    client: Client, timer: GatewayTimer, sandbox: str, cart: dict[str, int]
) -> dict[str, Step]:
    session = client.session
    session["cart"] = cart
    session.save()
    start, response = _step(client, timer, "post", "/checkout/")
    if response.status_code != 302 or "/checkout/" not in response["Location"]:
        raise RuntimeError(f"checkout did not start: {response.status_code}")
    pay_url = response["Location"]
    pay, response = _step(client, timer, "get", pay_url)
    if response.status_code != 200:
        raise RuntimeError(f"pay page: {response.status_code}")
    checkout_id = pay_url.rstrip("/").rsplit("/", 1)[1]
    intents = Payment.objects.filter(order__checkout_id=checkout_id).values_list(
        "stripe_payment_intent_id", flat=True
    )
    for intent in sorted(set(intents)):  # a checkout's orders share one intent
        _sandbox(sandbox, "POST", f"/v1/payment_intents/{intent}/confirm",
                 {"payment_method": "pm_card_visa"})  # fmt: skip
    done, response = _step(client, timer, "get", f"{pay_url}done/")
    if response.status_code != 200:
        raise RuntimeError(f"done page: {response.status_code}")
    return {"start": start, "pay": pay, "done": done}


def _waits(row: CheckoutRow) -> str:
    """One line: each page's time in Stripe calls and their number, at this latency."""
    pages = ", ".join(
        f"{name} {row.steps[name].stripe_ms:.0f} ms ({row.steps[name].stripe_calls} calls)"
        for name in STEPS
    )
    return (
        f"   checkout {row.items} × {row.contractors} at {row.latency_ms} ms: Stripe {pages}; "
        f"wall {row.wall_ms:.0f} ms"
    )


def _median_step(steps: list[Step]) -> Step:
    return sorted(steps, key=lambda s: s.server_ms)[len(steps) // 2]


def measure(sandbox: str, *, reps: int = 3, latency_ms: int = 300) -> list[CheckoutRow]:
    timer = GatewayTimer()
    timer.install()
    buyer, products = setup(sandbox)
    client = Client()
    client.force_login(buyer)
    one_checkout(client, timer, sandbox, _cart(products, 1, 1))  # the buyer's Customer, warm-up
    rows = []
    for latency, count in ((0, reps), (latency_ms, 1)):
        _sandbox(sandbox, "POST", "/_sandbox/latency", {"ms": latency})
        for items, contractors in CARTS:
            runs = [
                one_checkout(client, timer, sandbox, _cart(products, items, contractors))
                for _ in range(count)
            ]
            steps = {name: _median_step([run[name] for run in runs]) for name in STEPS}
            rows.append(CheckoutRow(items, contractors, latency, steps))
            if latency:
                print(_waits(rows[-1]), flush=True)
    _sandbox(sandbox, "POST", "/_sandbox/latency", {"ms": 0})
    return rows
