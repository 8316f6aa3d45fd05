"""Staff: refunds, with the same rules as the admin's refund form."""

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from payments.services.refunds import refund_request
from shop.models import Order

from .. import selectors
from ..errors import error_responses
from ..permissions import CanRefund
from ..serializers import RefundInputSerializer, RefundSerializer
from .base import ApiView, current_user, validated


class RefundCreateView(ApiView):
    permission_classes = [CanRefund]
    throttle_scope = "refunds"

    @extend_schema(
        operation_id="refunds_create",
        summary="Refund (part of) an order's captured payment",
        description="Needs the `payments.add_refund` permission. The refund is recorded at "
        "once and sent to Stripe in the background; webhooks confirm it.",
        tags=["staff"],
        request=RefundInputSerializer,
        responses={201: RefundSerializer, **error_responses(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        data = validated(RefundInputSerializer, request.data)
        try:
            order = selectors.order_get_for_staff(public_id=data["order"])
        except Order.DoesNotExist:
            raise ValidationError({"order": ["No such order."]}) from None
        payment = selectors.order_payment(order)
        if payment is None:
            raise ValidationError({"order": ["This order has no payment."]})
        refund = refund_request(
            payment_id=payment.pk,
            amount=data["amount"],
            reason=data.get("reason", ""),
            note=data.get("note", ""),
            reverse_transfer=data.get("reverse_transfer"),
            refund_application_fee=data.get("refund_application_fee"),
            requested_by_id=current_user(request).pk,
        )
        return Response(RefundSerializer(refund).data, status=201)
