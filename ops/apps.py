from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What the engineer who runs the shop needs: health, readiness, alerts."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "ops"
