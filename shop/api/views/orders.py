"""Buyers: cart-less checkout, their orders, and paying an order later."""

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from payments import gateway
from payments.services.intents import payment_intent_ensure, payment_intents_ensure
from shop.models import Order
from shop.services import checkout_create

from .. import selectors
from ..errors import (
    ERROR_DESCRIPTIONS,
    ApiError,
    CheckoutErrorSerializer,
    error_responses,
)
from ..permissions import IsBuyer
from ..serializers import (
    CheckoutInputSerializer,
    CheckoutSerializer,
    OrderFilterSerializer,
    OrderPaymentSerializer,
    OrderSerializer,
)
from ..throttling import StripeReadThrottle
from .base import ApiListView, ApiView, current_user, validated

logger = logging.getLogger(__name__)


def client_secrets(orders: Iterable[Order]) -> dict[int, str]:
    """{payment id: client secret} for the orders still awaiting payment.

    Creates each PaymentIntent the first time, side by side (idempotent);
    raises the gateway's exceptions when Stripe cannot be reached.
    """
    due = []
    for order in orders:
        payment = selectors.order_payment(order)
        if payment is not None and selectors.order_is_payable(order, payment):
            due.append(payment.pk)
    intents = payment_intents_ensure(payment_ids=due) if due else []
    return {pk: intent["client_secret"] for pk, intent in zip(due, intents, strict=True)}


def _payment_pending(
    exc: gateway.GatewayError, checkout_id: uuid.UUID, orders: list[Order]
) -> ApiError:
    """The checkout's orders exist but their payments could not be prepared at Stripe."""
    if isinstance(exc, gateway.GatewayUnavailable):
        status, code, message = 503, "payment_service_unavailable", exc.user_message
    else:
        logger.warning("Stripe refused a PaymentIntent for checkout %s: %s", checkout_id, exc)
        status, code = 502, "payment_service_error"
        message = gateway.GatewayError.user_message
    return ApiError(
        status_code=status,
        code=code,
        message=message,
        extra={"checkout_id": str(checkout_id), "orders": [str(o.public_id) for o in orders]},
    )


class OrderListCreateView(ApiListView):
    permission_classes = [IsBuyer]
    serializer_class = OrderSerializer
    throttle_scope = "orders"

    def get_queryset(self) -> QuerySet[Order]:
        filters = validated(OrderFilterSerializer, self.request.query_params)
        return selectors.order_list(
            buyer=current_user(self.request),
            status=filters.get("status", ""),
            checkout_id=filters.get("checkout_id"),
        )

    @extend_schema(
        operation_id="orders_list",
        summary="The buyer's orders, newest first",
        tags=["orders"],
        parameters=[OrderFilterSerializer],
        responses={200: OrderSerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="orders_create",
        summary="Check out: one order per contractor, each with a PaymentIntent",
        description=(
            "Amounts come from the catalogue, never from the request. Confirm each order's "
            "`payment.client_secret` with Stripe.js. If Stripe cannot be reached the orders "
            "are kept (503, with `checkout_id` and `orders`): get their client secrets later "
            "with POST /api/orders/{id}/payment/."
        ),
        tags=["orders"],
        request=CheckoutInputSerializer,
        responses={
            201: CheckoutSerializer,
            **error_responses(400, 401, 403, 429),
            502: OpenApiResponse(CheckoutErrorSerializer, description=ERROR_DESCRIPTIONS[502]),
            503: OpenApiResponse(CheckoutErrorSerializer, description=ERROR_DESCRIPTIONS[503]),
        },
    )
    def post(self, request: Request) -> Response:
        data = validated(CheckoutInputSerializer, request.data)
        buyer = current_user(request)
        checkout_id = checkout_create(
            buyer=buyer, items=[(item["product"], item["quantity"]) for item in data["items"]]
        )
        orders = list(selectors.order_list(buyer=buyer, checkout_id=checkout_id))
        try:
            secrets = client_secrets(orders)
        except gateway.GatewayError as exc:
            raise _payment_pending(exc, checkout_id, orders) from exc
        body = {
            "checkout_id": checkout_id,
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "orders": orders,
        }
        context = {"client_secrets": secrets}
        return Response(CheckoutSerializer(body, context=context).data, status=201)


class OrderDetailView(ApiView):
    permission_classes = [IsBuyer]
    # An order awaiting payment asks Stripe for its intent's client secret.
    throttle_classes = [StripeReadThrottle]
    stripe_read_scope = "stripe_reads"

    @extend_schema(
        operation_id="orders_retrieve",
        summary="One of the buyer's orders",
        description="While the order awaits payment, `payment.client_secret` is filled in "
        "(null if Stripe cannot be reached just now).",
        tags=["orders"],
        responses={200: OrderSerializer, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request: Request, public_id: uuid.UUID) -> Response:
        order = selectors.order_get(buyer=current_user(request), public_id=public_id)
        try:
            secrets = client_secrets([order])
        except gateway.GatewayError as exc:
            logger.warning("No client secret for order %s: %s", order.public_id, exc)
            secrets = {}
        return Response(OrderSerializer(order, context={"client_secrets": secrets}).data)


class OrderPaymentView(ApiView):
    permission_classes = [IsBuyer]
    throttle_scope = "orders"

    @extend_schema(
        operation_id="orders_payment_create",
        summary="Prepare (or re-read) the order's PaymentIntent and get its client secret",
        tags=["orders"],
        request=None,
        responses={
            200: OrderPaymentSerializer,
            **error_responses(401, 403, 404, 409, 429, 502, 503),
        },
    )
    def post(self, request: Request, public_id: uuid.UUID) -> Response:
        order = selectors.order_get(buyer=current_user(request), public_id=public_id)
        payment = selectors.order_payment(order)
        if payment is None or not selectors.order_is_payable(order, payment):
            raise ApiError(
                status_code=409,
                code="invalid_state",
                message=f"This order has nothing left to pay: it is "
                f"{order.get_status_display().lower()}.",
            )
        secret = payment_intent_ensure(payment_id=payment.pk)["client_secret"]
        context = {
            "client_secrets": {payment.pk: secret},
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        }
        return Response(OrderPaymentSerializer(payment, context=context).data)
