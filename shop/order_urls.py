"""Checkout, buyers' orders and contractors' sales (included by shop/urls.py)."""

from django.urls import path

from . import checkout_shipping_views, checkout_views, order_views, sale_views

urlpatterns = [
    path("checkout/", checkout_views.checkout_start, name="checkout_start"),
    path("checkout/<uuid:checkout_id>/", checkout_views.checkout_pay, name="checkout_pay"),
    path(
        "checkout/<uuid:checkout_id>/shipping/",
        checkout_shipping_views.checkout_shipping,
        name="checkout_shipping",
    ),
    path("checkout/<uuid:checkout_id>/done/", checkout_views.checkout_done, name="checkout_done"),
    path("orders/", order_views.order_list, name="order_list"),
    path("orders/<uuid:public_id>/", order_views.order_detail, name="order_detail"),
    path("orders/<uuid:public_id>/cancel/", order_views.order_cancel, name="order_cancel"),
    path("sales/", order_views.sales_list, name="sales_list"),
    path("sales/<uuid:public_id>/", sale_views.sale_detail, name="sale_detail"),
    path("sales/<uuid:public_id>/fulfil/", sale_views.sales_fulfil, name="sales_fulfil"),
    path("sales/<uuid:public_id>/tracking/", sale_views.sale_tracking, name="sale_tracking"),
]
