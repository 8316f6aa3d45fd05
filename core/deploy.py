"""What production refuses to run with: missing or sandbox-default Stripe secrets.

Used twice: `config/settings.py` stops the process at start-up when DEBUG is off, and
`manage.py check --deploy` reports the same problems (payments/checks.py), so a
deployer sees them before the first request rather than after a forged webhook.
"""

from collections.abc import Mapping

# Every Stripe credential production needs. Without the webhook secrets anybody who
# knows the sandbox's published defaults could sign events (mark an order paid).
REQUIRED_STRIPE_SETTINGS = (
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_CONNECT_WEBHOOK_SECRET",
)

# The offline sandbox's published values (settings' defaults, stripe_sandbox.testing):
# fine on a laptop, a forgery kit in production.
SANDBOX_PREFIXES = ("sk_test_sandbox", "pk_test_sandbox", "whsec_sandbox")


def stripe_settings_problems(values: Mapping[str, object]) -> list[str]:
    """One sentence per Stripe setting that is missing or a sandbox default."""
    problems = []
    for name in REQUIRED_STRIPE_SETTINGS:
        value = str(values.get(name) or "").strip()
        if not value:
            problems.append(f"{name} is not set.")
        elif value.startswith(SANDBOX_PREFIXES):
            problems.append(f"{name} is the offline sandbox's published default.")
    return problems
