from django.urls import path

from .webhooks import views as webhook_views

app_name = "payments"

urlpatterns = [
    path("webhooks/stripe/", webhook_views.platform_webhook, name="webhook_platform"),
    path("webhooks/connect/", webhook_views.connect_webhook, name="webhook_connect"),
]
