"""Buyers: cart-less checkout, their orders, and paying an order later."""

import logging
import uuid
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api_permissions import EmailVerified
from shop.checkout import (
    CheckoutPaymentError,
    NothingToPay,
    checkout_prepare,
    order_payment_prepare,
)
from shop.models import Order
from shop.services import checkout_create
from shop.shipping import Address, ShippingAddressNeeded, checkout_ship_to

from .. import selectors
from ..errors import (
    ERROR_DESCRIPTIONS,
    CheckoutErrorSerializer,
    checkout_payment_error,
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


def _client_secrets(order: Order) -> dict[int, str | None]:
    """{payment id: client secret} while the order awaits payment (empty otherwise, or
    when Stripe cannot be asked just now: the order still reads fine)."""
    try:
        prepared = order_payment_prepare(order=order)
    except (NothingToPay, ShippingAddressNeeded):
        return {}
    except CheckoutPaymentError as exc:
        logger.warning("No client secret for order %s: %s", order.public_id, exc)
        return {}
    return {prepared.payment.pk: prepared.client_secret}


class OrderListCreateView(ApiListView):
    permission_classes = [IsBuyer, EmailVerified]
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
        if data.get("shipping"):
            checkout_ship_to(
                buyer=buyer, checkout_id=checkout_id, address=Address(**data["shipping"])
            )
        orders = list(selectors.order_list(buyer=buyer, checkout_id=checkout_id))
        try:
            checkout = checkout_prepare(buyer=buyer, checkout_id=checkout_id)
        except CheckoutPaymentError as exc:
            # The orders are kept: say which, so they can be paid later.
            orders_kept = {
                "checkout_id": str(checkout_id),
                "orders": [str(o.public_id) for o in orders],
            }
            raise checkout_payment_error(exc, extra=orders_kept) from exc
        body = {
            "checkout_id": checkout_id,
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "orders": orders,
        }
        context = {"client_secrets": checkout.client_secrets}
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
        context = {"client_secrets": _client_secrets(order)}
        return Response(OrderSerializer(order, context=context).data)


class OrderPaymentView(ApiView):
    permission_classes = [IsBuyer]
    throttle_scope = "orders"

    @extend_schema(
        operation_id="orders_payment_create",
        summary="Prepare (or re-read) the order's PaymentIntent and get its client secret",
        tags=["orders"],
        request=None,
        description="409 when the order is not awaiting payment, or its goods ship and "
        "it has no shipping address (check out again with `shipping`).",
        responses={
            200: OrderPaymentSerializer,
            **error_responses(401, 403, 404, 409, 429, 502, 503),
        },
    )
    def post(self, request: Request, public_id: uuid.UUID) -> Response:
        order = selectors.order_get(buyer=current_user(request), public_id=public_id)
        # Not awaiting payment → 409; Stripe unreachable → 503, refusing → 502 (errors.py).
        prepared = order_payment_prepare(order=order)
        context = {
            "client_secrets": {prepared.payment.pk: prepared.client_secret},
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        }
        return Response(OrderPaymentSerializer(prepared.payment, context=context).data)
