"""One error format for every 4xx and 5xx the API returns.

    {"error": {"code": "invalid", "message": "…", "fields": {"items[0].quantity": ["…"]}}}

`api_exception_handler` is DRF's EXCEPTION_HANDLER. It also translates the domain's
own exceptions, so views can let a service's refusal propagate instead of catching it:
CheckoutError and RefundError → 400, PermissionError → 403, InvalidTransition and
NothingToPay → 409, an unreachable Stripe → 503, a refusing one → 502 (the table
DOMAIN_ERRORS). Anything unexpected is logged and answered with a 500
in the same shape, never a stack trace.
"""

import logging
from collections.abc import Callable, Mapping
from typing import Any, cast

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from core.statemachine import InvalidTransition
from payments import gateway
from payments.services.refunds import RefundError
from shop.checkout import CheckoutPaymentError, CheckoutUnavailable, NothingToPay
from shop.images import ImageRejected
from shop.listings import ListingError, PhotoError
from shop.prices import PriceError
from shop.services import CheckoutError
from shop.shipping import AddressLocked, ShippingAddressNeeded

logger = logging.getLogger(__name__)

SERVER_ERROR_MESSAGE = "Something went wrong on our side. Please try again later."

Translate = Callable[[Exception], exceptions.APIException]


class ApiError(exceptions.APIException):
    """An API error with our own code; `extra` adds keys next to code/message/fields."""

    def __init__(
        self,
        *,
        status_code: int,
        code: str,
        message: str,
        extra: Mapping[str, Any] | None = None,
    ):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.extra = dict(extra or {})


def _api_error(status_code: int, code: str) -> Callable[[Exception], ApiError]:
    """A translation to an ApiError whose message is the exception's own (fit to show)."""
    return lambda exc: ApiError(status_code=status_code, code=code, message=str(exc))


def _gateway_unavailable(exc: Exception) -> ApiError:
    assert isinstance(exc, gateway.GatewayUnavailable)
    return ApiError(status_code=503, code="payment_service_unavailable", message=exc.user_message)


def _card_declined(exc: Exception) -> ApiError:
    assert isinstance(exc, gateway.CardDeclined)
    return ApiError(status_code=402, code="card_declined", message=exc.user_message)


def _gateway_refused(exc: Exception) -> ApiError:
    # Stripe refused our own request: its wording is for us (logged), not for the user.
    logger.warning("Payment service refused a request: %s", exc)
    return ApiError(
        status_code=502, code="payment_service_error", message=gateway.GatewayError.user_message
    )


def checkout_payment_error(exc: Exception, *, extra: Mapping[str, Any] | None = None) -> ApiError:
    """The API error for payments Stripe could not prepare (the service logged why):
    503 when it could not be reached, 502 when it refused."""
    assert isinstance(exc, CheckoutPaymentError)
    if isinstance(exc, CheckoutUnavailable):
        status_code, code = 503, "payment_service_unavailable"
    else:
        status_code, code = 502, "payment_service_error"
    return ApiError(status_code=status_code, code=code, message=exc.user_message, extra=extra)


def _field_error(field: str) -> Callable[[Exception], exceptions.ValidationError]:
    """A refusal about one input field (its message is fit to show): a 400 naming it."""
    return lambda exc: exceptions.ValidationError({field: [str(exc)]})


def _django_validation_error(exc: Exception) -> exceptions.ValidationError:
    assert isinstance(exc, DjangoValidationError)
    detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    return exceptions.ValidationError(detail)


# Domain and Django exceptions → the API exception they stand for. The first match
# wins, so a subclass comes before its base (CardDeclined before GatewayError).
DOMAIN_ERRORS: tuple[tuple[type[Exception] | tuple[type[Exception], ...], Translate], ...] = (
    (exceptions.APIException, lambda exc: cast(exceptions.APIException, exc)),
    ((Http404, ObjectDoesNotExist), lambda exc: exceptions.NotFound()),
    (
        (PermissionError, DjangoPermissionDenied),
        lambda exc: exceptions.PermissionDenied(str(exc) or None),
    ),
    (CheckoutError, _api_error(400, "checkout_invalid")),
    (RefundError, _api_error(400, "refund_invalid")),
    (InvalidTransition, _api_error(409, "invalid_state")),
    (ListingError, _api_error(409, "invalid_state")),
    (PriceError, _field_error("price")),
    ((ImageRejected, PhotoError), _field_error("image")),
    (NothingToPay, _api_error(409, "invalid_state")),
    ((ShippingAddressNeeded, AddressLocked), _api_error(409, "invalid_state")),
    (CheckoutPaymentError, checkout_payment_error),
    (gateway.GatewayUnavailable, _gateway_unavailable),
    (gateway.CardDeclined, _card_declined),
    (gateway.GatewayError, _gateway_refused),
    (DjangoValidationError, _django_validation_error),
)


def _domain_error(exc: Exception) -> exceptions.APIException | None:
    """The API exception a domain or Django exception stands for (None: unexpected)."""
    for kinds, translate in DOMAIN_ERRORS:
        if isinstance(exc, kinds):
            return translate(exc)
    return None


def field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as flat `{"items[0].quantity": ["…"]}` pairs."""
    if isinstance(detail, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(field_errors(value, name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, Mapping | list) for item in detail):
            return {prefix: [str(item) for item in detail]} if detail else {}
        flat = {}
        for index, item in enumerate(detail):
            flat.update(field_errors(item, f"{prefix}[{index}]"))
        return flat
    return {prefix: [str(detail)]}


def error_body(
    code: str,
    message: str,
    fields: Mapping[str, list[str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": dict(fields or {}), **extra}}


def _validation_body(exc: exceptions.ValidationError) -> dict[str, Any]:
    fields = field_errors(exc.detail)
    general = fields.pop("", []) + fields.pop("non_field_errors", [])
    message = " ".join(general) or "Invalid input: see the fields."
    return error_body("invalid", message, fields)


def api_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every error, whatever raised it, in one shape."""
    api_exc = _domain_error(exc)
    if api_exc is None:
        view = context.get("view")
        logger.error("Unhandled error in %s", type(view).__name__, exc_info=exc)
        set_rollback()
        return Response(
            error_body("server_error", SERVER_ERROR_MESSAGE),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response = drf_exception_handler(api_exc, dict(context))
    assert response is not None  # DRF answers every APIException
    if isinstance(api_exc, exceptions.ValidationError):
        response.data = _validation_body(api_exc)
        return response
    detail = api_exc.detail
    code = getattr(detail, "code", None) or api_exc.default_code
    extra = getattr(api_exc, "extra", {})
    response.data = error_body(str(code), str(detail), **extra)
    return response


@csrf_exempt  # a POST to a wrong address is a 404, not a CSRF failure
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any address under /api/ that is not an endpoint: a 404 in the API's own format.

    Without this, Django would answer with an HTML page, or redirect a GET without its
    trailing slash (and refuse a POST): the message says so instead.
    """
    message = "There is no API endpoint at this address."
    if not request.path.endswith("/"):
        message += " API addresses end with a slash."
    return JsonResponse(error_body("not_found", message), status=404)


# --- Schema -----------------------------------------------------------------------


def _error_detail_fields() -> dict[str, serializers.Field]:
    # A serializer class cannot declare a field called `fields` (the name is taken),
    # so the error shapes are built with inline_serializer.
    return {
        "code": serializers.CharField(
            help_text="Stable, machine-readable: invalid, checkout_invalid, not_authenticated, "
            "authentication_failed, invalid_credentials, refund_invalid, permission_denied, "
            "not_found, "
            "method_not_allowed, unsupported_media_type, invalid_state, throttled, "
            "card_declined, payment_service_error, payment_service_unavailable, server_error."
        ),
        "message": serializers.CharField(help_text="A sentence fit to show the user."),
        "fields": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text='Messages by input field, e.g. {"items[0].quantity": ["…"]}; may be empty.',
        ),
    }


ErrorSerializer = inline_serializer(
    name="Error",
    fields={"error": inline_serializer(name="ErrorDetail", fields=_error_detail_fields())},
)

CheckoutErrorSerializer = inline_serializer(
    name="CheckoutError",
    fields={
        "error": inline_serializer(
            name="CheckoutErrorDetail",
            fields={
                **_error_detail_fields(),
                "checkout_id": serializers.UUIDField(
                    help_text="The orders were created: get their client secrets later "
                    "with POST /api/orders/{id}/payment/."
                ),
                "orders": serializers.ListField(child=serializers.UUIDField()),
            },
        )
    },
)


ERROR_DESCRIPTIONS = {
    400: "Invalid input (`invalid`, with `fields`; `parse_error`; or the service's refusal: "
    "`checkout_invalid`, `refund_invalid`, `invalid_credentials`).",
    401: "Not logged in (`not_authenticated`), or a bad token (`authentication_failed`).",
    402: "The card was declined (`card_declined`).",
    403: "Not allowed for this account (`permission_denied`).",
    404: "No such object, or not yours (`not_found`).",
    409: "Not possible in the object's current state (`invalid_state`).",
    415: "The body is not in a format this endpoint reads (`unsupported_media_type`).",
    429: "Too many requests (`throttled`); see Retry-After.",
    502: "The payment service refused the request (`payment_service_error`).",
    503: "The payment service is unreachable (`payment_service_unavailable`); retry later.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """`extend_schema(responses=…)` entries for these error statuses."""
    return {
        code: OpenApiResponse(response=ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in statuses
    }
