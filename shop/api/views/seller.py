"""Sellers' listings: their own products and photos, never anyone else's (404)."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from shop import listings
from shop import selectors as shop_selectors
from shop.models import Product

from ..errors import error_responses
from ..permissions import IsContractor
from ..seller_serializers import (
    PhotoInputSerializer,
    PhotoSerializer,
    PhotoUpdateSerializer,
    SellerProductFilterSerializer,
    SellerProductInputSerializer,
    SellerProductSerializer,
)
from .base import ApiListView, ApiView, current_user, validated

TAGS = ["seller"]


def _context(request: Request) -> dict[str, Any]:
    return {"can_charge": current_user(request).profile.can_take_charges}


def _product(request: Request, product_id: int) -> Product:
    # Another seller's product raises DoesNotExist: a 404 (errors.py), as if it did not exist.
    return shop_selectors.seller_product_get(seller=current_user(request), product_id=product_id)


def _answer(request: Request, product_id: int, status: int = 200) -> Response:
    product = _product(request, product_id)  # read again: photos and state as saved
    return Response(SellerProductSerializer(product, context=_context(request)).data, status=status)


def _input(request: Request, product: Product | None = None) -> dict[str, Any]:
    serializer = SellerProductInputSerializer(
        data=request.data, partial=product is not None, context={"product": product}
    )
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class SellerProductListView(ApiListView):
    permission_classes = [IsContractor]
    serializer_class = SellerProductSerializer
    throttle_scope = "listings"

    def get_queryset(self) -> QuerySet[Product]:
        filters = validated(SellerProductFilterSerializer, self.request.query_params)
        return shop_selectors.seller_product_list(
            seller=current_user(self.request), status=filters.get("status", "")
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), **_context(self.request)}

    @extend_schema(
        operation_id="seller_products_list",
        summary="The seller's own products, in every state, newest first",
        tags=TAGS,
        parameters=[SellerProductFilterSerializer],
        responses={
            200: SellerProductSerializer(many=True),
            **error_responses(400, 401, 403, 404),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="seller_products_create",
        summary="List a new product (live at once; seen by buyers once payments are set up)",
        tags=TAGS,
        request=SellerProductInputSerializer,
        responses={201: SellerProductSerializer, **error_responses(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        data = _input(request)
        product = listings.product_create(
            seller=current_user(request),
            title=data["title"],
            description=data["description"],
            price_amount=data["price_amount"],
            currency=data["currency"],
            category=data["category"],
            stock=data["stock"],
            kind=data["kind"],
        )
        return _answer(request, product.pk, status=201)


class SellerProductDetailView(ApiView):
    permission_classes = [IsContractor]
    throttle_scope = "listings"

    @extend_schema(
        operation_id="seller_products_retrieve",
        summary="One of the seller's products",
        tags=TAGS,
        responses={200: SellerProductSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, product_id: int) -> Response:
        return _answer(request, product_id)

    @extend_schema(
        operation_id="seller_products_partial_update",
        summary="Change a product's title, description, price, currency, category or stock",
        description="Orders already placed keep the title and price they were bought at. "
        "An archived product cannot be changed (409).",
        tags=TAGS,
        request=SellerProductInputSerializer,
        responses={
            200: SellerProductSerializer,
            **error_responses(400, 401, 403, 404, 409, 429),
        },
    )
    def patch(self, request: Request, product_id: int) -> Response:
        product = _product(request, product_id)
        listings.product_update(product=product, changes=_input(request, product))
        return _answer(request, product_id)


class _StateView(ApiView):
    permission_classes = [IsContractor]
    throttle_scope = "listings"
    service: Callable[..., Product]

    def post(self, request: Request, product_id: int) -> Response:
        type(self).service(product=_product(request, product_id))
        return _answer(request, product_id)


def _state_schema(operation_id: str, summary: str, description: str) -> Callable:
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        tags=TAGS,
        request=None,
        responses={200: SellerProductSerializer, **error_responses(401, 403, 404, 409, 429)},
    )


class SellerProductPauseView(_StateView):
    service = listings.product_pause

    @_state_schema(
        "seller_products_pause",
        "Take a product out of the catalogue for now",
        "Repeating it changes nothing; an archived product cannot be paused (409).",
    )
    def post(self, request: Request, product_id: int) -> Response:
        return super().post(request, product_id)


class SellerProductUnpauseView(_StateView):
    service = listings.product_unpause

    @_state_schema(
        "seller_products_unpause",
        "Put a paused product back on sale",
        "Repeating it changes nothing; an archived product stays archived (409).",
    )
    def post(self, request: Request, product_id: int) -> Response:
        return super().post(request, product_id)


class SellerProductArchiveView(_StateView):
    service = listings.product_archive

    @_state_schema(
        "seller_products_archive",
        "Withdraw a product for good",
        "It leaves the catalogue and can no longer be changed; past orders still show it. "
        "Repeating it changes nothing.",
    )
    def post(self, request: Request, product_id: int) -> Response:
        return super().post(request, product_id)


class SellerPhotoCreateView(ApiView):
    permission_classes = [IsContractor]
    throttle_scope = "listings"
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="seller_products_photos_create",
        summary=f"Add a photo (at most {listings.MAX_PHOTOS} per product), as multipart",
        tags=TAGS,
        request={"multipart/form-data": PhotoInputSerializer},
        responses={
            201: PhotoSerializer,
            **error_responses(400, 401, 403, 404, 409, 429),
        },
    )
    def post(self, request: Request, product_id: int) -> Response:
        product = _product(request, product_id)
        data = validated(PhotoInputSerializer, request.data)
        # A file that is not an image, too big, or one photo too many → 400 (errors.py).
        photo = listings.photo_add(product=product, upload=data["image"], alt_text=data["alt_text"])
        return Response(PhotoSerializer(photo).data, status=201)


class SellerPhotoDetailView(ApiView):
    permission_classes = [IsContractor]
    throttle_scope = "listings"

    def _photo(self, request: Request, product_id: int, photo_id: int) -> Any:
        return shop_selectors.seller_photo_get(
            seller=current_user(request), product_id=product_id, photo_id=photo_id
        )

    @extend_schema(
        operation_id="seller_products_photos_partial_update",
        summary="Change a photo's alternative text or its place among the photos",
        tags=TAGS,
        request=PhotoUpdateSerializer,
        responses={200: PhotoSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
    )
    def patch(self, request: Request, product_id: int, photo_id: int) -> Response:
        photo = self._photo(request, product_id, photo_id)
        data = validated(PhotoUpdateSerializer, request.data)
        if "alt_text" in data:
            photo = listings.photo_update(photo=photo, alt_text=data["alt_text"])
        if "position" in data:
            listings.photo_move(photo=photo, position=data["position"])
        return Response(PhotoSerializer(self._photo(request, product_id, photo_id)).data)

    @extend_schema(
        operation_id="seller_products_photos_destroy",
        summary="Delete a photo",
        tags=TAGS,
        responses={
            204: OpenApiResponse(description="Deleted."),
            **error_responses(401, 403, 404, 409, 429),
        },
    )
    def delete(self, request: Request, product_id: int, photo_id: int) -> Response:
        listings.photo_delete(photo=self._photo(request, product_id, photo_id))
        return Response(status=204)
