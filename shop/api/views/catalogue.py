"""Products: anyone may list and read them."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from shop import selectors as shop_selectors
from shop.models import Product

from .. import selectors
from ..errors import error_responses
from ..serializers import ProductDetailSerializer, ProductFilterSerializer, ProductSerializer
from .base import ApiListView, ApiView, validated


class ProductListView(ApiListView):
    permission_classes = [AllowAny]
    serializer_class = ProductSerializer

    def get_queryset(self) -> QuerySet[Product]:
        filters = validated(ProductFilterSerializer, self.request.query_params)
        return selectors.product_list(
            search=filters.get("search", "").strip(),
            seller_id=filters.get("seller"),
            currency=filters.get("currency", "").lower(),
            category=filters.get("category", ""),
            sort=filters.get("sort", "newest"),
        )

    @extend_schema(
        operation_id="products_list",
        summary="Products that can be bought, newest first (or by price)",
        tags=["catalogue"],
        parameters=[ProductFilterSerializer],
        responses={200: ProductSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ProductDetailView(ApiView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="products_retrieve",
        summary="A product by its slug",
        tags=["catalogue"],
        responses={200: ProductDetailSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        product = shop_selectors.product_get(slug=slug)
        context = {"buyable": shop_selectors.product_is_buyable(product)}
        return Response(ProductDetailSerializer(product, context=context).data)
