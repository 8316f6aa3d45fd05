"""Contractors' balance and Stripe Connect onboarding."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api_permissions import EmailVerified
from payments.services.connect import balance_refresh, onboarding_link_create

from .. import selectors
from ..errors import error_responses
from ..permissions import IsContractor
from ..serializers import BalanceFilterSerializer, BalanceSerializer, OnboardingLinkSerializer
from .base import ApiView, current_user, validated


class BalanceView(ApiView):
    permission_classes = [IsContractor]

    @extend_schema(
        operation_id="contractor_balance_retrieve",
        summary="The contractor's Stripe balance (available and pending), per currency",
        tags=["contractor"],
        parameters=[BalanceFilterSerializer],
        responses={200: BalanceSerializer, **error_responses(400, 401, 403, 502, 503)},
    )
    def get(self, request: Request) -> Response:
        filters = validated(BalanceFilterSerializer, request.query_params)
        contractor = current_user(request)
        if filters["refresh"]:
            balances = sorted(balance_refresh(user_id=contractor.pk), key=lambda b: b.currency)
        else:
            balances = selectors.balance_list(contractor=contractor)
        return Response(BalanceSerializer({"balances": balances}).data)


class OnboardingLinkView(ApiView):
    permission_classes = [IsContractor, EmailVerified]
    throttle_scope = "onboarding"

    @extend_schema(
        operation_id="contractor_onboarding_link_create",
        summary="A fresh Stripe-hosted onboarding link (Account Link)",
        description="Single use and short-lived: open it at once. Stripe sends the contractor "
        "back to the shop's onboarding pages.",
        tags=["contractor"],
        request=None,
        responses={
            201: OnboardingLinkSerializer,
            **error_responses(401, 403, 429, 502, 503),
        },
    )
    def post(self, request: Request) -> Response:
        url = onboarding_link_create(
            user_id=current_user(request).pk,
            refresh_url=request.build_absolute_uri(reverse("accounts:onboarding_refresh")),
            return_url=request.build_absolute_uri(reverse("accounts:onboarding_return")),
        )
        return Response(OnboardingLinkSerializer({"url": url}).data, status=201)
