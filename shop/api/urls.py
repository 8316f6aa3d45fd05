"""/api/…: the shop's REST API, its OpenAPI schema and Swagger UI."""

from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .errors import api_not_found
from .views import accounts, catalogue, contractor, orders, sales, seller, staff, storefront

app_name = "api"

urlpatterns = [
    path("auth/token/", accounts.TokenObtainView.as_view(), name="token"),
    path("auth/logout/", accounts.TokenRevokeView.as_view(), name="logout"),
    path("auth/logout-all/", accounts.TokenRevokeAllView.as_view(), name="logout_all"),
    path("me/", accounts.MeView.as_view(), name="me"),
    path("products/", catalogue.ProductListView.as_view(), name="product_list"),
    path("products/<slug:slug>/", catalogue.ProductDetailView.as_view(), name="product_detail"),
    path("orders/", orders.OrderListCreateView.as_view(), name="order_list"),
    path("orders/<uuid:public_id>/", orders.OrderDetailView.as_view(), name="order_detail"),
    path(
        "orders/<uuid:public_id>/payment/",
        orders.OrderPaymentView.as_view(),
        name="order_payment",
    ),
    path("sales/", sales.SaleListView.as_view(), name="sale_list"),
    path("sales/<uuid:public_id>/fulfil/", sales.SaleFulfilView.as_view(), name="sale_fulfil"),
    path("contractor/balance/", contractor.BalanceView.as_view(), name="balance"),
    path(
        "contractor/onboarding-link/",
        contractor.OnboardingLinkView.as_view(),
        name="onboarding_link",
    ),
    path("seller/products/", seller.SellerProductListView.as_view(), name="seller_products"),
    path(
        "seller/products/<int:product_id>/",
        seller.SellerProductDetailView.as_view(),
        name="seller_product",
    ),
    path(
        "seller/products/<int:product_id>/pause/",
        seller.SellerProductPauseView.as_view(),
        name="seller_product_pause",
    ),
    path(
        "seller/products/<int:product_id>/unpause/",
        seller.SellerProductUnpauseView.as_view(),
        name="seller_product_unpause",
    ),
    path(
        "seller/products/<int:product_id>/archive/",
        seller.SellerProductArchiveView.as_view(),
        name="seller_product_archive",
    ),
    path(
        "seller/products/<int:product_id>/photos/",
        seller.SellerPhotoCreateView.as_view(),
        name="seller_photo_create",
    ),
    path(
        "seller/products/<int:product_id>/photos/<int:photo_id>/",
        seller.SellerPhotoDetailView.as_view(),
        name="seller_photo",
    ),
    path(
        "seller/storefront/",
        storefront.SellerStorefrontView.as_view(),
        name="seller_storefront",
    ),
    path(
        "seller/storefront/logo/",
        storefront.SellerStorefrontLogoView.as_view(),
        name="seller_storefront_logo",
    ),
    path("refunds/", staff.RefundCreateView.as_view(), name="refund_create"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script for
    # the Content-Security-Policy to allow. Swagger UI does set inline styles, which
    # cannot run script: allowed on this page only.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema")
        ),
        name="docs",
    ),
    # Anything else under /api/ is a 404 in the API's error format, not an HTML page.
    re_path(r"^", api_not_found),
]
