"""Fixtures for the API tests: users with tokens, buyable products, a patched gateway."""

import itertools
from unittest import mock

import pytest
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from payments import gateway
from tests.factories import BuyerFactory, ContractorFactory, ProductFactory

GATEWAY_FUNCTIONS = [
    "customer_create",
    "payment_intent_create",
    "platform_payment_intent_create",
    "payment_intent_retrieve",
    "balance_retrieve",
    "account_create",
    "account_retrieve",
    "account_link_create",
]


@pytest.fixture(autouse=True)
def _fast_and_fresh(settings):
    """Cheap password hashing, and throttle counters that do not leak between tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def gw(monkeypatch):
    """Every gateway function the API reaches, patched: no network, calls recorded.

    PaymentIntents get ids from a counter and client secrets derived from the id,
    as Stripe's are; a retrieve returns the same secret as the create did.
    """
    fake = mock.MagicMock()
    for name in GATEWAY_FUNCTIONS:
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    counter = itertools.count(1)

    def intent_create(**kwargs):
        pi = f"pi_api_{next(counter)}"
        return {"id": pi, "client_secret": f"{pi}_secret", "status": "requires_payment_method"}

    fake.customer_create.return_value = {"id": "cus_api"}
    fake.payment_intent_create.side_effect = intent_create
    fake.platform_payment_intent_create.side_effect = intent_create
    fake.payment_intent_retrieve.side_effect = lambda *, payment_intent: {
        "id": payment_intent,
        "client_secret": f"{payment_intent}_secret",
        "status": "requires_payment_method",
    }
    fake.account_link_create.return_value = {"url": "https://connect.example/setup/s_1"}
    fake.balance_retrieve.return_value = {"available": [], "pending": []}
    return fake


def client_for(user=None) -> APIClient:
    """An API client authenticated with the user's token (anonymous without a user)."""
    client = APIClient()
    if user is not None:
        _, token = AuthToken.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def anon():
    return client_for()


@pytest.fixture
def buyer_api(buyer):
    return client_for(buyer)


@pytest.fixture
def seller(db):
    """A contractor who finished Connect onboarding: their products can be bought."""
    return ContractorFactory(
        profile__charges_enabled=True,
        profile__payouts_enabled=True,
        profile__stripe_id="acct_seller_api",
    )


@pytest.fixture
def seller_api(seller):
    return client_for(seller)


@pytest.fixture
def product(seller):
    return ProductFactory(seller=seller, title="Garden tidy", price_amount=4500)


@pytest.fixture
def other_buyer(db):
    return BuyerFactory()


@pytest.fixture
def other_seller(db):
    return ContractorFactory(
        profile__charges_enabled=True, profile__stripe_id="acct_other_seller_api"
    )
