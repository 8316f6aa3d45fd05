"""Tokens (POST /api/auth/token/), session and token authentication, GET /api/me/."""

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.api.conftest import client_for
from tests.factories import PASSWORD, BuyerFactory, StaffFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/auth/token/"
ME = "/api/me/"


def test_email_and_password_give_a_token_that_authenticates(anon, buyer):
    response = anon.post(TOKEN, {"email": buyer.email.upper(), "password": PASSWORD}, format="json")

    assert response.status_code == 200
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(ME).json()["email"] == buyer.email
    # Stored hashed: the database does not hold the token itself.
    stored = AuthToken.objects.get(user=buyer)
    assert token not in (stored.digest, stored.token_key)
    # It expires: the answer says when, about TOKEN_TTL from now.
    assert response.json()["expiry"].startswith(str(stored.expiry.date()))


def test_a_token_stops_working_once_expired(anon, buyer):
    token = anon.post(TOKEN, {"email": buyer.email, "password": PASSWORD}, format="json").json()
    AuthToken.objects.filter(user=buyer).update(expiry=timezone.now())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")

    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_logging_out_revokes_the_token(anon, buyer):
    first = anon.post(TOKEN, {"email": buyer.email, "password": PASSWORD}, format="json")
    second = anon.post(TOKEN, {"email": buyer.email, "password": PASSWORD}, format="json")
    one, two = APIClient(), APIClient()
    one.credentials(HTTP_AUTHORIZATION=f"Token {first.json()['token']}")
    two.credentials(HTTP_AUTHORIZATION=f"Token {second.json()['token']}")

    assert one.post("/api/auth/logout/").status_code == 204

    assert one.get(ME).status_code == 401
    assert two.get(ME).status_code == 200  # another device keeps its token


def test_logging_out_everywhere_revokes_every_token(anon, buyer):
    tokens = [
        anon.post(TOKEN, {"email": buyer.email, "password": PASSWORD}, format="json").json()
        for _ in range(2)
    ]
    clients = [APIClient() for _ in tokens]
    for client, token in zip(clients, tokens, strict=True):
        client.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")

    assert clients[0].post("/api/auth/logout-all/").status_code == 204

    assert [client.get(ME).status_code for client in clients] == [401, 401]
    assert not AuthToken.objects.filter(user=buyer).exists()


@pytest.mark.parametrize("case", ["wrong password", "unknown email", "inactive user"])
def test_bad_credentials_are_400_invalid_credentials(anon, case):
    user = BuyerFactory(is_active=case != "inactive user")
    email = "nobody@example.com" if case == "unknown email" else user.email
    password = "wrong" if case == "wrong password" else PASSWORD

    response = anon.post(TOKEN, {"email": email, "password": password}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_credentials",
            "message": "Unable to log in with this email and password.",
            "fields": {},
        }
    }
    assert not AuthToken.objects.exists()


def test_missing_or_malformed_credentials_are_field_errors(anon):
    response = anon.post(TOKEN, {"email": "not-an-email"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "Invalid input: see the fields.",
        "fields": {
            "email": ["Enter a valid email address."],
            "password": ["This field is required."],
        },
    }


def test_token_requests_are_throttled(settings, anon, buyer):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "auth": "2/min",
        },
    }
    wrong = {"email": buyer.email, "password": "guess"}

    statuses = [anon.post(TOKEN, wrong, format="json").status_code for _ in range(3)]

    assert statuses == [400, 400, 429]


def test_a_stale_browser_session_does_not_block_getting_a_token(buyer):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(buyer)

    response = client.post(TOKEN, {"email": buyer.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200


def test_an_invalid_token_is_401_authentication_failed(buyer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get(ME)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"] == {
        "code": "authentication_failed",
        "message": "Invalid token.",
        "fields": {},
    }


def test_a_bad_token_is_refused_even_where_anonymous_users_may_read(product):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token expired-or-revoked")

    response = client.get("/api/products/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_session_login_works_and_writes_need_the_csrf_token(gw, buyer, product):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(buyer)
    items = {"items": [{"product": product.pk, "quantity": 1}]}

    me = client.get(ME)
    without_csrf = client.post("/api/orders/", items, format="json")

    assert me.status_code == 200
    assert without_csrf.status_code == 403
    assert without_csrf.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in without_csrf.json()["error"]["message"]
    # With a token instead of the session cookie, no CSRF token is needed.
    assert client_for(buyer).post("/api/orders/", items, format="json").status_code == 201


def test_me_for_a_buyer(buyer_api, buyer):
    response = buyer_api.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": buyer.pk,
        "email": buyer.email,
        "role": "buyer",
        "name": buyer.email.split("@")[0],
        "is_staff": False,
        "connect": None,
    }


def test_me_for_a_contractor_shows_their_connect_status(seller_api):
    body = seller_api.get(ME).json()

    assert body["role"] == "contractor"
    assert body["connect"] == {
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": False,
    }


def test_me_for_staff_without_a_profile():
    staff = StaffFactory()

    body = client_for(staff).get(ME).json()

    assert (body["role"], body["name"], body["is_staff"], body["connect"]) == (
        None,
        None,
        True,
        None,
    )


def test_me_needs_a_login(anon):
    response = anon.get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
