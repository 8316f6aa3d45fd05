from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from payments.admin.reconcile import reconcile_view

admin.site.site_header = "Marketplace operations"
admin.site.site_title = "Marketplace admin"

admin.site.index_template = "admin/marketplace_index.html"

urlpatterns = [
    # Probes first: they skip everything the shop's pages need.
    path("", include("ops.urls")),
    # Before admin.site.urls, whose catch-all would answer first.
    path(
        "admin/payments/reconcile/",
        admin.site.admin_view(reconcile_view),
        name="payments_reconcile",
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("payments/", include("payments.urls")),
    path("notifications/", include("notifications.urls")),
    path("api/", include("shop.api.urls")),
    path("", include("shop.urls")),
    # Product photos and shop logos: with DEBUG on only (the demo); else the proxy's job.
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]

# A database that is briefly gone answers 503 "try again", not 500 (core/errors.py).
handler500 = "core.errors.server_error"
