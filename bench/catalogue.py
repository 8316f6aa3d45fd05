"""4. Catalogue: requests/s, p50 and SQL queries per page at 10, 1,000 and 100,000 products.

Products are bulk-created for 20 onboarded contractors. Pages: the first page `/`;
a page in the middle (the link a buyer reaches by pressing "Older" half-way
through: a cursor at the middle product); a search `/?q=walnut` (one product in
eight has the word in its title); a search that one product matches. Throughput is
measured through gunicorn with 8 connections; p50 with 1 connection (the page's own
time, no queueing); queries with the test client in this process (anonymous
visitor, like the load generator).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.pagination import Cursor

from accounts.models import User, UserProfile
from shop import selectors
from shop.models import Product
from shop.pagination import NewestFirst

from . import loadgen

SIZES = (10, 1_000, 100_000)
SELLERS = 20
RARE = "/?q=item+7."  # in one product's description only
WOODS = ["oak", "walnut", "maple", "cherry", "ash", "birch", "elm", "beech"]
THINGS = ["board", "bowl", "spoon", "stool", "frame", "box", "tray", "shelf", "lamp"]


@dataclass
class PageRow:
    products: int
    page: str
    rps: float
    p50_ms: float  # 1 connection
    p99_ms: float  # 8 connections
    queries: int


def sellers() -> list[User]:
    users = User.objects.bulk_create(
        User(email=f"catalogue-seller-{n}@bench.invalid", password="!") for n in range(SELLERS)
    )
    UserProfile.objects.bulk_create(
        UserProfile(
            user=user,
            role=UserProfile.Role.CONTRACTOR,
            display_name=f"Workshop {n}",
            stripe_id=f"acct_benchcatalogue{n:04d}",
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
        )
        for n, user in enumerate(users)
    )
    return users


def grow(seller_users: list[User], have: int, want: int) -> None:
    """Add products until there are `want`, in batches."""
    names = itertools.product(WOODS, THINGS)
    names = list(names)
    batch: list[Product] = []
    for n in range(have, want):
        wood, thing = names[n % len(names)]
        batch.append(
            Product(
                seller=seller_users[n % len(seller_users)],
                title=f"{wood.title()} {thing} no. {n}",
                slug=f"bench-{wood}-{thing}-{n}",
                description=f"A {wood} {thing}, made to order. Item {n}.",
                price_amount=500 + (n * 37) % 20_000,
                currency="usd",
                seller_can_charge=True,  # the sellers can (bulk_create skips product_save)
            )
        )
        if len(batch) == 5000:
            Product.objects.bulk_create(batch)
            batch = []
    if batch:
        Product.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        # As autovacuum would after a load this size (the 20 bulk-created profiles are
        # below its threshold, and without their statistics the planner guesses badly).
        cursor.execute("ANALYZE shop_product, accounts_user, accounts_userprofile")


def middle_page(products: int) -> str:
    """The catalogue link whose page starts at the middle product."""
    middle = selectors.product_list().order_by(*NewestFirst.ordering)[products // 2]
    pager = NewestFirst()
    pager.base_url = "/"
    link = pager.encode_cursor(Cursor(offset=0, reverse=False, position=str(middle.created_at)))
    return "/?" + urlsplit(link).query


def _queries(path: str) -> int:
    client = Client()
    client.get(path)  # warm (first-request work is not per page)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code}")
    return len(captured)


def measure(base: str, *, seconds: float = 3) -> list[PageRow]:
    users = sellers()
    rows = []
    have = 0
    for size in SIZES:
        grow(users, have, size)
        have = size
        middle = middle_page(size)
        for path in ("/", middle, "/?q=walnut", RARE):
            loadgen.load(base, path, connections=4, seconds=1)  # warm
            single = loadgen.load(base, path, connections=1, seconds=max(1, seconds / 2))
            loaded = loadgen.load(base, path, connections=8, seconds=seconds)
            label = "/?cursor=… (middle)" if path == middle else path
            rows.append(
                PageRow(size, label, loaded.rps, single.p50_ms, loaded.p99_ms, _queries(path))
            )
        time.sleep(0.2)
    return rows
