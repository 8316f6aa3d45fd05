"""The generated OpenAPI schema (/api/schema/) and Swagger UI (/api/docs/)."""

import json

import pytest
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

ERROR_REFS = {"#/components/schemas/Error", "#/components/schemas/CheckoutError"}


@pytest.fixture
def schema(anon):
    response = anon.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_schema_is_valid_openapi_3_and_generates_without_warnings(schema, tmp_path):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)
    # --fail-on-warn: an endpoint the generator cannot describe fails the suite.
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_every_endpoint_is_in_the_schema(schema):
    assert sorted(name for name, _ in operations(schema)) == [
        "DELETE /api/seller/products/{product_id}/photos/{photo_id}/",
        "GET /api/contractor/balance/",
        "GET /api/me/",
        "GET /api/orders/",
        "GET /api/orders/{public_id}/",
        "GET /api/products/",
        "GET /api/products/{slug}/",
        "GET /api/sales/",
        "GET /api/seller/products/",
        "GET /api/seller/products/{product_id}/",
        "GET /api/seller/storefront/",
        "PATCH /api/seller/products/{product_id}/",
        "PATCH /api/seller/products/{product_id}/photos/{photo_id}/",
        "PATCH /api/seller/storefront/",
        "POST /api/auth/logout-all/",
        "POST /api/auth/logout/",
        "POST /api/auth/token/",
        "POST /api/contractor/onboarding-link/",
        "POST /api/orders/",
        "POST /api/orders/{public_id}/payment/",
        "POST /api/refunds/",
        "POST /api/sales/{public_id}/fulfil/",
        "POST /api/seller/products/",
        "POST /api/seller/products/{product_id}/archive/",
        "POST /api/seller/products/{product_id}/pause/",
        "POST /api/seller/products/{product_id}/photos/",
        "POST /api/seller/products/{product_id}/unpause/",
        "POST /api/seller/storefront/logo/",
    ]


def test_every_error_response_is_documented_in_the_error_format(schema):
    for name, operation in operations(schema):
        responses = operation["responses"]
        errors = {code: r for code, r in responses.items() if int(code) >= 400}
        assert errors, name
        for code, response in errors.items():
            ref = response["content"]["application/json"]["schema"]["$ref"]
            assert ref in ERROR_REFS, (name, code)
        if "security" in operation:  # a token is read: a bad one is a 401
            assert "401" in responses, name
        if {} not in operation.get("security", [{}]) and name != "GET /api/me/":
            assert "403" in responses, name  # a role is required
        if "{" in name:
            assert "404" in responses, name
        if operation.get("requestBody") or operation.get("parameters"):
            assert "400" in responses or "{" in name, name


def test_write_endpoints_document_throttling(schema):
    for name, operation in operations(schema):
        if name.startswith(("POST", "PATCH", "DELETE")):
            assert "429" in operation["responses"], name


def test_error_schema_has_code_message_and_field_errors(schema):
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert detail["required"] == ["code", "fields", "message"]
    assert detail["properties"]["fields"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }


def test_money_is_minor_units_currency_and_display(schema):
    order = schema["components"]["schemas"]["Order"]["properties"]
    assert order["amount"]["type"] == "integer"
    assert order["currency"]["type"] == "string"
    assert order["amount_display"]["type"] == "string"
    product = schema["components"]["schemas"]["Product"]["properties"]
    assert {"price_amount", "currency", "price_display"} <= set(product)


def test_token_and_session_auth_are_documented(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["knoxApiToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }
    assert schemes["cookieAuth"]["in"] == "cookie"


def test_swagger_ui(anon):
    response = anon.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content


def test_docs_page_loads_its_assets_from_us_not_a_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn." not in page
