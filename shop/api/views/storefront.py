"""The seller's own shop page: read it, change its name, description and logo.

Only the owner: the shop is the logged-in contractor's own (no id in the address),
so there is no one else's shop to reach.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from shop.images import ImageRejected
from shop.storefront import storefront_ensure, storefront_update

from ..errors import error_responses
from ..permissions import IsContractor
from ..storefront_serializers import (
    StorefrontInputSerializer,
    StorefrontLogoInputSerializer,
    StorefrontSerializer,
)
from .base import ApiView, current_user, validated

TAGS = ["seller"]


class SellerStorefrontView(ApiView):
    permission_classes = [IsContractor]
    throttle_scope = "listings"
    # JSON only: a form would send an empty name that DRF reads as left out.
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="seller_storefront_retrieve",
        summary="The seller's shop page (made from their name the first time)",
        tags=TAGS,
        responses={200: StorefrontSerializer, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        storefront = storefront_ensure(seller=current_user(request))
        return Response(StorefrontSerializer(storefront).data)

    @extend_schema(
        operation_id="seller_storefront_partial_update",
        summary="Change the shop's name or description, or remove its logo",
        tags=TAGS,
        request=StorefrontInputSerializer,
        responses={200: StorefrontSerializer, **error_responses(400, 401, 403, 429)},
    )
    def patch(self, request: Request) -> Response:
        storefront = storefront_ensure(seller=current_user(request))
        serializer = StorefrontInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes: dict[str, Any] = dict(serializer.validated_data)
        storefront_update(
            storefront=storefront,
            name=changes.get("name", storefront.name),
            slug=storefront.slug,
            description=changes.get("description", storefront.description),
            remove_logo=changes.get("remove_logo", False),
        )
        return Response(StorefrontSerializer(storefront).data)


class SellerStorefrontLogoView(ApiView):
    permission_classes = [IsContractor]
    throttle_scope = "listings"
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="seller_storefront_logo_create",
        summary="Upload a new logo for the shop (replaces the current one), as multipart",
        tags=TAGS,
        request={"multipart/form-data": StorefrontLogoInputSerializer},
        responses={200: StorefrontSerializer, **error_responses(400, 401, 403, 415, 429)},
    )
    def post(self, request: Request) -> Response:
        storefront = storefront_ensure(seller=current_user(request))
        data = validated(StorefrontLogoInputSerializer, request.data)
        try:
            storefront_update(
                storefront=storefront,
                name=storefront.name,
                slug=storefront.slug,
                description=storefront.description,
                logo=data["logo"],
            )
        except ImageRejected as exc:
            raise serializers.ValidationError({"logo": [str(exc)]}) from exc
        return Response(StorefrontSerializer(storefront).data)
