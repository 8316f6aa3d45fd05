"""A database that is briefly gone is a 503 asking to retry, never a 500 (core/errors.py)."""

import json
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory

from core.errors import server_error

pytestmark = pytest.mark.django_db

GONE = OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def client_without_raising():
    return Client(raise_request_exception=False)


def test_a_page_whose_database_went_away_is_a_503_to_retry(client_without_raising):
    with mock.patch("shop.views.selectors.product_list", side_effect=GONE):
        response = client_without_raising.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "15"
    assert "Nothing was lost" in response.content.decode()


def test_any_other_error_is_still_a_500(client_without_raising):
    with mock.patch("shop.views.selectors.product_list", side_effect=RuntimeError("bug")):
        response = client_without_raising.get("/")

    assert response.status_code == 500


def test_the_api_answers_in_its_own_error_format():
    request = RequestFactory().get("/api/products/")
    try:
        raise GONE
    except OperationalError:
        response = server_error(request)

    assert response.status_code == 503
    assert json.loads(response.content)["error"]["code"] == "unavailable"
    assert response["Retry-After"] == "15"
