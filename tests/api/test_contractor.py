"""Contractors: GET /api/contractor/balance/ and POST /api/contractor/onboarding-link/."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from payments import gateway
from payments.models import BalanceSnapshot
from tests.api.conftest import client_for
from tests.factories import ContractorFactory

pytestmark = pytest.mark.django_db

BALANCE = "/api/contractor/balance/"
LINK = "/api/contractor/onboarding-link/"


def snapshot(contractor, currency, available, pending, age=timedelta(minutes=5)):
    return BalanceSnapshot.objects.create(
        contractor=contractor,
        account=contractor.profile.stripe_id,
        currency=currency,
        available_amount=available,
        pending_amount=pending,
        fetched_at=timezone.now() - age,
    )


def test_balance_is_the_last_reading_without_calling_stripe(gw, seller, seller_api, other_seller):
    eur = snapshot(seller, "eur", -500, 0)
    snapshot(seller, "usd", 12345, 4020)
    snapshot(other_seller, "usd", 999, 999)

    response = seller_api.get(BALANCE)

    assert response.status_code == 200
    assert response.json()["balances"] == [
        {
            "currency": "eur",
            "available_amount": -500,
            "available_display": "-€5.00",
            "pending_amount": 0,
            "pending_display": "€0.00",
            "fetched_at": eur.fetched_at.isoformat().replace("+00:00", "Z"),
        },
        {
            "currency": "usd",
            "available_amount": 12345,
            "available_display": "$123.45",
            "pending_amount": 4020,
            "pending_display": "$40.20",
            "fetched_at": mock.ANY,
        },
    ]
    gw.balance_retrieve.assert_not_called()


def test_refresh_reads_stripe_for_the_connected_account(gw, settings, seller, seller_api):
    settings.BALANCE_REFRESH_MIN_SECONDS = 30
    snapshot(seller, "usd", 1, 1, age=timedelta(minutes=5))
    gw.balance_retrieve.return_value = {
        "available": [{"amount": 7000, "currency": "usd"}],
        "pending": [{"amount": 300, "currency": "usd"}, {"amount": 50, "currency": "jpy"}],
    }

    response = seller_api.get(BALANCE, {"refresh": "1"})

    assert response.status_code == 200
    assert [
        (b["currency"], b["available_display"], b["pending_display"])
        for b in response.json()["balances"]
    ] == [("jpy", "¥0", "¥50"), ("usd", "$70.00", "$3.00")]
    gw.balance_retrieve.assert_called_once_with(account="acct_seller_api")

    # Within BALANCE_REFRESH_MIN_SECONDS the reading is reused: Stripe is not asked again.
    again = seller_api.get(BALANCE, {"refresh": "true"})
    assert again.json() == response.json()
    assert gw.balance_retrieve.call_count == 1


def test_refresh_with_stripe_unreachable_is_503(gw, seller_api):
    gw.balance_retrieve.side_effect = gateway.GatewayUnavailable("timeout")

    response = seller_api.get(BALANCE, {"refresh": "yes"})

    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "payment_service_unavailable",
        "message": "Payment service is unreachable, please retry.",
        "fields": {},
    }


def test_balance_refresh_must_be_a_boolean(seller_api):
    response = seller_api.get(BALANCE, {"refresh": "please"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"refresh": ["Must be a valid boolean."]}


def test_buyers_and_anonymous_have_no_balance(gw, anon, buyer_api):
    assert anon.get(BALANCE).status_code == 401
    assert buyer_api.get(BALANCE).status_code == 403
    assert buyer_api.get(BALANCE, {"refresh": "1"}).status_code == 403
    gw.balance_retrieve.assert_not_called()


def test_onboarding_link_with_urls_back_to_the_shop(gw, settings, seller, seller_api):
    settings.ALLOWED_HOSTS = ["shop.example.com"]

    response = seller_api.post(LINK, HTTP_HOST="shop.example.com")

    assert response.status_code == 201
    assert response.json() == {"url": "https://connect.example/setup/s_1"}
    gw.account_create.assert_not_called()  # the account exists already
    kwargs = gw.account_link_create.call_args.kwargs
    assert kwargs["account"] == "acct_seller_api"
    assert kwargs["refresh_url"] == "http://shop.example.com/accounts/onboarding/refresh/"
    assert kwargs["return_url"] == "http://shop.example.com/accounts/onboarding/return/"
    assert kwargs["idempotency_key"].startswith(f"user-{seller.pk}-link-")


def test_onboarding_link_creates_the_connected_account_first(gw):
    newcomer = ContractorFactory()
    gw.account_create.return_value = {"id": "acct_new", "charges_enabled": False}

    response = client_for(newcomer).post(LINK)

    assert response.status_code == 201
    gw.account_create.assert_called_once()
    assert gw.account_link_create.call_args.kwargs["account"] == "acct_new"
    newcomer.profile.refresh_from_db()
    assert newcomer.profile.stripe_id == "acct_new"


def test_onboarding_link_with_stripe_unreachable_is_503(gw, seller_api):
    gw.account_link_create.side_effect = gateway.GatewayUnavailable("down")

    response = seller_api.post(LINK)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "payment_service_unavailable"


def test_buyers_and_anonymous_get_no_onboarding_link(gw, anon, buyer_api):
    assert anon.post(LINK).status_code == 401
    assert buyer_api.post(LINK).status_code == 403
    gw.account_link_create.assert_not_called()


def test_onboarding_links_are_throttled(gw, settings, seller_api):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "onboarding": "1/min",
        },
    }

    assert seller_api.post(LINK).status_code == 201
    assert seller_api.post(LINK).status_code == 429
    assert gw.account_link_create.call_count == 1
