"""Property-based tests of the whole API against its own generated OpenAPI schema.

schemathesis reads /api/schema/ from Django's WSGI app and, for every operation,
generates requests (valid and invalid), sends them as a logged-in buyer, then as a
contractor, then as staff (token header) with the gateway patched and no Celery task
sent, and checks every response: no 5xx, a documented status code and content type,
a body matching the documented schema, invalid input refused with a 4xx, no access
without a login. Bounded and deterministic so the suite stays quick and repeatable.

The schema is loaded when the module is imported (it needs no database). The lazy
`schemathesis.pytest.from_fixture` loader would be neater, but schemathesis 4.32
renames pytest nodes through `Node._nodeid`, which pytest 9.2 no longer has.
"""

import io
from unittest import mock

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from knox.models import AuthToken

from config.wsgi import application
from payments.models import BalanceSnapshot
from shop.listings import photo_add
from shop.models import Order
from tests.factories import (
    OrderFactory,
    OrderItemFactory,
    PaymentFactory,
    ProductFactory,
    image_bytes,
)

MAX_EXAMPLES = 25

# Rows of the current test, so generated requests also name objects that exist.
KNOWN: dict[str, list] = {"slugs": [], "orders": [], "products": [], "photos": []}

# schemathesis's default for valid requests, plus 400 where the database decides validity.
ACCEPTED_WITH_400 = ["2xx", "400", "401", "403", "404", "409", "429", "5xx"]
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
        "operations": [
            {
                # Credentials that fit the schema are mostly wrong: 400 invalid_credentials.
                "include-operation-id": "auth_token_create",
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_WITH_400}},
            },
            {
                # Ids that fit the schema can still name products that cannot be bought:
                # checkout's own 400 (checkout_invalid) is then the right answer.
                "include-operation-id": "orders_create",
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_WITH_400}},
            },
            {
                # Likewise orders that do not exist or amounts above what is refundable.
                "include-operation-id": "refunds_create",
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_WITH_400}},
            },
            *(
                # Any string fits the schema's price, and any bytes its photo: whether it
                # is a price that can be sold, or an image, is the shop's 400 to give.
                {
                    "include-operation-id": operation_id,
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ACCEPTED_WITH_400}
                    },
                }
                for operation_id in (
                    "seller_products_create",
                    "seller_products_partial_update",
                    "seller_products_photos_create",
                    "seller_storefront_logo_create",
                )
            ),
        ],
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)


def _known(name: str, build):
    return st.deferred(lambda: st.sampled_from(KNOWN[name]).map(build))


@schema.hook
def before_generate_path_parameters(context, strategy):
    if "{slug}" in context.operation.path:
        return st.one_of(strategy, _known("slugs", lambda slug: {"slug": slug}))
    if "{public_id}" in context.operation.path:
        return st.one_of(strategy, _known("orders", lambda pk: {"public_id": pk}))
    if "{photo_id}" in context.operation.path:
        photo = _known("photos", lambda ids: {"product_id": ids[0], "photo_id": ids[1]})
        return st.one_of(strategy, photo)
    if "{product_id}" in context.operation.path:
        return st.one_of(strategy, _known("products", lambda pk: {"product_id": pk}))
    return strategy


@schema.hook
def before_generate_body(context, strategy):
    if context.operation.label == "POST /api/orders/":
        item = st.fixed_dictionaries(
            {
                "product": st.deferred(lambda: st.sampled_from(KNOWN["products"])),
                "quantity": st.integers(1, 3),
            }
        )
        items = st.lists(item, min_size=1, max_size=3).map(lambda i: {"items": i})
        return st.one_of(strategy, items)
    if context.operation.label == "POST /api/refunds/":
        refund = st.fixed_dictionaries(
            {
                "order": st.deferred(lambda: st.sampled_from(KNOWN["orders"])),
                "amount": st.integers(1, 3000),
            }
        )
        return st.one_of(strategy, refund)
    return strategy


@pytest.fixture
def keep_test_connection():
    """Let the raw WSGI app run inside the test's transaction, as Django's test client does.

    Django closes "old" connections when a request starts and ends; inside a test's
    transaction that would close the very connection holding the test data.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["buyer", "contractor", "staff"])
def api_data(request, keep_test_connection, gw, settings, buyer, seller, other_seller, staff_user):
    """A catalogue, orders to pay, fulfil and refund, and generous rate limits.

    Runs as the buyer, as the contractor (`seller`) and as staff, so every role's
    endpoints answer with data, not only with 403.
    """
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        # Hundreds of requests in seconds: lift the limits (other tests lower them).
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(
            settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "100000/min"
        ),
    }
    products = [
        ProductFactory(seller=seller, slug="st-mine"),
        ProductFactory(seller=other_seller, slug="st-theirs", price_amount=999),
    ]
    photos = [
        photo_add(product=p, upload=io.BytesIO(image_bytes()), alt_text="A photo") for p in products
    ]
    pending = OrderFactory(buyer=buyer, seller=seller)
    PaymentFactory(order=pending, stripe_payment_intent_id="pi_pending")
    paid = OrderFactory(buyer=buyer, seller=seller, status=Order.Status.AUTHORIZED)
    OrderItemFactory(order=paid)
    PaymentFactory(order=paid, status="authorized")
    captured = OrderFactory(buyer=buyer, seller=seller, status=Order.Status.CAPTURED)
    PaymentFactory(order=captured, status="captured", amount_captured=captured.amount)
    BalanceSnapshot.objects.create(
        contractor=seller,
        account=seller.profile.stripe_id,
        currency="usd",
        available_amount=-150,
        pending_amount=4020,
        fetched_at=timezone.now(),
    )
    KNOWN.update(
        slugs=[p.slug for p in products],
        products=[p.pk for p in products],
        orders=[str(o.public_id) for o in (pending, paid, captured)],
        photos=[(p.product_id, p.pk) for p in photos],
    )
    user = {"buyer": buyer, "contractor": seller, "staff": staff_user}[request.param]
    with (
        mock.patch("payments.tasks.refund_execute_task.delay"),
        mock.patch("payments.tasks.payment_capture_task.delay"),
    ):
        _, token = AuthToken.objects.create(user=user)
        yield {"Authorization": f"Token {token}"}
    for rows in KNOWN.values():
        rows.clear()


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, api_data):
    case.call_and_validate(headers=api_data)
