"""System checks for the Stripe settings.

`manage.py check --deploy`: production's Stripe credentials are real ones.
Every start-up (runserver, migrate, check): `STRIPE_API_VERSION` is one the
shop's requests and webhook handlers are written for (payments/gateway/version.py).
"""

from django.conf import settings
from django.core import checks

from core.deploy import REQUIRED_STRIPE_SETTINGS, stripe_settings_problems
from payments.gateway.version import PINNED_API_VERSION, api_version_problem, is_newer_than_pinned


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


@checks.register()
def stripe_api_version_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """An older API version breaks every checkout: refused. A newer one is allowed
    (an upgrade under test) but said out loud."""
    version = settings.STRIPE_API_VERSION
    problem = api_version_problem(version)
    if problem:
        return [checks.Error(problem, hint="Unset STRIPE_API_VERSION.", id="payments.E002")]
    if is_newer_than_pinned(version):
        return [
            checks.Warning(
                f"STRIPE_API_VERSION {version!r} is newer than {PINNED_API_VERSION!r}, the "
                "version the shop is written and tested for.",
                hint="Run the test suite against it, then move the pin "
                "(payments/gateway/version.py) and the stripe package together.",
                id="payments.W001",
            )
        ]
    return []


@checks.register()
def dispute_policy_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A misspelt dispute policy would fail every dispute webhook: refused at start-up."""
    from payments.services.disputes import FEE_POLICIES, RECOVERY_POLICIES

    problems: list[checks.CheckMessage] = []
    for name, allowed, code in (
        ("DISPUTE_RECOVERY", RECOVERY_POLICIES, "payments.E101"),
        ("DISPUTE_FEE_POLICY", FEE_POLICIES, "payments.E102"),
    ):
        value = getattr(settings, name, None)
        if value not in allowed:
            problems.append(
                checks.Error(
                    f"{name} is {value!r}; it must be one of {', '.join(allowed)}.",
                    hint="README: Disputes.",
                    id=code,
                )
            )
    return problems
