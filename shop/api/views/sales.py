"""Contractors' sales and fulfilment."""

import uuid
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.statemachine import InvalidTransition
from shop.models import Order
from shop.services import order_fulfil

from .. import selectors
from ..errors import ApiError, error_responses
from ..permissions import IsContractor
from ..serializers import SaleFilterSerializer, SaleSerializer
from ..shipping_serializers import FulfilInputSerializer
from .base import ApiListView, ApiView, current_user, validated


class SaleListView(ApiListView):
    permission_classes = [IsContractor]
    serializer_class = SaleSerializer

    def get_queryset(self) -> QuerySet[Order]:
        filters = validated(SaleFilterSerializer, self.request.query_params)
        return selectors.sale_list(
            seller=current_user(self.request), status=filters.get("status", "")
        )

    @extend_schema(
        operation_id="sales_list",
        summary="The contractor's sales, newest first",
        tags=["sales"],
        parameters=[SaleFilterSerializer],
        responses={200: SaleSerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class SaleFulfilView(ApiView):
    permission_classes = [IsContractor]
    throttle_scope = "fulfil"

    @extend_schema(
        operation_id="sales_fulfil",
        summary="Mark an authorised sale fulfilled; the buyer's card is then charged",
        description="Repeating it on a fulfilled order changes nothing. The capture runs in "
        "the background: the order moves on to `captured` when Stripe confirms it. Goods "
        "that ship may carry a `carrier` and `tracking_number`, shown to the buyer.",
        tags=["sales"],
        request=FulfilInputSerializer,
        responses={200: SaleSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
    )
    def post(self, request: Request, public_id: uuid.UUID) -> Response:
        seller = current_user(request)
        tracking = validated(FulfilInputSerializer, request.data)
        order = selectors.sale_get(seller=seller, public_id=public_id)
        try:
            order_fulfil(order_id=order.pk, seller=seller, **tracking)
        except InvalidTransition as exc:
            raise ApiError(
                status_code=409,
                code="invalid_state",
                message=f"This order cannot be fulfilled: it is "
                f"{order.get_status_display().lower()}.",
            ) from exc
        order = selectors.sale_get(seller=seller, public_id=public_id)
        return Response(SaleSerializer(order).data)
