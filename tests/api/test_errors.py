"""The one error format: the exception handler's mappings and the edges of /api/."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions

from core.statemachine import InvalidTransition
from payments import gateway
from shop.api.errors import api_exception_handler, field_errors
from shop.models import Product
from shop.services import CheckoutError


def handle(exc):
    response = api_exception_handler(exc, {"view": None})
    return response.status_code, response.data["error"]


@pytest.mark.parametrize(
    ("exc", "status", "code", "message"),
    [
        (CheckoutError("Your cart is empty."), 400, "checkout_invalid", "Your cart is empty."),
        (
            InvalidTransition("Order", "pending", "fulfilled"),
            409,
            "invalid_state",
            "Order cannot move from 'pending' to 'fulfilled'.",
        ),
        (
            gateway.GatewayUnavailable("connect timeout to api.stripe.com"),
            503,
            "payment_service_unavailable",
            "Payment service is unreachable, please retry.",
        ),
        (
            gateway.RateLimited("429"),
            503,
            "payment_service_unavailable",
            "Payment service is unreachable, please retry.",
        ),
        (
            gateway.CardDeclined("expired_card", "This card has expired."),
            402,
            "card_declined",
            "This card has expired.",
        ),
        (
            gateway.GatewayRejected("No such customer: 'cus_secret'", status=400),
            502,
            "payment_service_error",
            "The payment service returned an error. Please try again.",
        ),
        (
            PermissionError("Only the order's contractor can fulfil it."),
            403,
            "permission_denied",
            "Only the order's contractor can fulfil it.",
        ),
        (Http404("No Order matches the given query."), 404, "not_found", "Not found."),
        (Product.DoesNotExist(), 404, "not_found", "Not found."),
        (
            exceptions.Throttled(wait=12),
            429,
            "throttled",
            "Request was throttled. Expected available in 12 seconds.",
        ),
        (
            RuntimeError("database password is hunter2"),
            500,
            "server_error",
            "Something went wrong on our side. Please try again later.",
        ),
    ],
)
def test_exceptions_map_to_status_code_and_message(exc, status, code, message):
    with mock.patch("shop.api.errors.logger"):
        assert handle(exc) == (status, {"code": code, "message": message, "fields": {}})


def test_django_validation_errors_keep_their_fields():
    assert handle(DjangoValidationError({"amount": ["Too much."]})) == (
        400,
        {
            "code": "invalid",
            "message": "Invalid input: see the fields.",
            "fields": {"amount": ["Too much."]},
        },
    )


def test_unexpected_errors_are_logged_with_their_traceback():
    with mock.patch("shop.api.errors.logger") as logger:
        status, error = handle(RuntimeError("boom"))

    assert status == 500
    assert "boom" not in str(error)
    assert logger.error.call_args.kwargs["exc_info"].args == ("boom",)


def test_field_errors_are_flattened_with_paths():
    detail = {
        "items": {1: {"quantity": ["Too many."]}, 3: {"non_field_errors": ["Bad item."]}},
        "note": ["Too long.", "Not nice."],
        "lines": [{}, {"title": ["Required."]}],
        "non_field_errors": ["Wrong together."],
    }

    assert field_errors(detail) == {
        "items[1].quantity": ["Too many."],
        "items[3].non_field_errors": ["Bad item."],
        "note": ["Too long.", "Not nice."],
        "lines[1].title": ["Required."],
        "non_field_errors": ["Wrong together."],
    }


def test_non_field_errors_become_the_message():
    response = api_exception_handler(
        exceptions.ValidationError({"non_field_errors": ["Pick one."], "a": ["Bad."]}), {}
    )

    assert response.data == {
        "error": {"code": "invalid", "message": "Pick one.", "fields": {"a": ["Bad."]}}
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "hint"),
    [
        ("/api/nothing/", ""),
        ("/api/products/a/b/", ""),
        ("/api/orders/not-a-uuid/", ""),
        ("/api/orders", " API addresses end with a slash."),
    ],
)
def test_unknown_addresses_under_api_are_json_404(client, path, hint):
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 404
        assert response.json() == {
            "error": {
                "code": "not_found",
                "message": f"There is no API endpoint at this address.{hint}",
                "fields": {},
            }
        }


@pytest.mark.django_db
def test_a_crash_in_a_view_is_a_json_500_without_details(anon):
    with (
        mock.patch("shop.api.selectors.product_list", side_effect=RuntimeError("secret")),
        mock.patch("shop.api.errors.logger"),
    ):
        response = anon.get("/api/products/")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "secret" not in response.content.decode()


@pytest.mark.django_db
def test_only_json_is_spoken(anon):
    response = anon.get("/api/products/", HTTP_ACCEPT="text/html")

    assert response.status_code == 406
    assert response.json()["error"]["code"] == "not_acceptable"
