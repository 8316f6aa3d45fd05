"""`manage.py check --deploy`: production's Stripe credentials are real ones."""

from django.conf import settings
from django.core import checks

from core.deploy import REQUIRED_STRIPE_SETTINGS, stripe_settings_problems


@checks.register(checks.Tags.security, deploy=True)
def stripe_credentials_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Missing or sandbox-default Stripe keys and webhook secrets (see core/deploy.py)."""
    values = {name: getattr(settings, name, "") for name in REQUIRED_STRIPE_SETTINGS}
    return [
        checks.Error(
            problem,
            hint="Set the value from the Stripe dashboard (webhook secrets: one per endpoint).",
            id="payments.E001",
        )
        for problem in stripe_settings_problems(values)
    ]
