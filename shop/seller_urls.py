"""Sellers' pages under /sell/ (included by shop/urls.py)."""

from django.urls import path

from . import seller_views as views

urlpatterns = [
    path("sell/products/", views.product_list, name="seller_products"),
    path("sell/products/new/", views.product_new, name="seller_product_new"),
    path("sell/products/<int:product_id>/edit/", views.product_edit, name="seller_product_edit"),
    path("sell/products/<int:product_id>/pause/", views.product_pause, name="seller_product_pause"),
    path(
        "sell/products/<int:product_id>/unpause/",
        views.product_unpause,
        name="seller_product_unpause",
    ),
    path(
        "sell/products/<int:product_id>/archive/",
        views.product_archive,
        name="seller_product_archive",
    ),
    path("sell/products/<int:product_id>/photos/", views.photo_add, name="seller_photo_add"),
    path(
        "sell/products/<int:product_id>/photos/<int:photo_id>/",
        views.photo_update,
        name="seller_photo_update",
    ),
    path(
        "sell/products/<int:product_id>/photos/<int:photo_id>/move/",
        views.photo_move,
        name="seller_photo_move",
    ),
    path(
        "sell/products/<int:product_id>/photos/<int:photo_id>/delete/",
        views.photo_delete,
        name="seller_photo_delete",
    ),
    path("sell/shop/", views.storefront_edit, name="seller_storefront"),
]
