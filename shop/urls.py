from django.urls import path

from . import views
from .order_urls import urlpatterns as order_urlpatterns
from .seller_urls import urlpatterns as seller_urlpatterns

app_name = "shop"

urlpatterns = [
    path("", views.product_list, name="product_list"),
    path("products/<slug:slug>/", views.product_detail, name="product_detail"),
    path("shops/<slug:slug>/", views.storefront, name="storefront"),
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/<int:product_id>/", views.cart_add, name="cart_add"),
    path("cart/update/<int:product_id>/", views.cart_update, name="cart_update"),
    path("cart/remove/<int:product_id>/", views.cart_remove, name="cart_remove"),
    # Checkout (shop:checkout_start is /checkout/), orders and sales live in their own module.
    *order_urlpatterns,
    # Sellers' products and shop (/sell/…).
    *seller_urlpatterns,
]
