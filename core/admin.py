"""Admin helpers shared by the apps: money shown in its currency, read-only Stripe ids."""

from django.contrib import admin

from core.money import format_amount


def money_column(field: str, description: str):
    """An admin column showing `field` (minor units) formatted in the row's currency."""

    @admin.display(description=description, ordering=field)
    def column(self, obj):
        return format_amount(getattr(obj, field), obj.currency)

    column.__name__ = f"{field}_display"
    return column


DASHBOARD_PATHS = {
    "pi_": "payments",
    "ch_": "payments",
    "re_": "refunds",
    "tr_": "connect/transfers",
    "acct_": "connect/accounts",
    "cus_": "customers",
    "po_": "payouts",
    "evt_": "events",
    "fee_": "connect/application_fees",
    "py_": "payments",
}


def stripe_dashboard_url(stripe_id: str) -> str:
    """Where a Stripe object lives in Stripe's dashboard (test mode)."""
    for prefix, path in DASHBOARD_PATHS.items():
        if stripe_id.startswith(prefix):
            return f"https://dashboard.stripe.com/test/{path}/{stripe_id}"
    return ""


def stripe_link(stripe_id: str | None):
    """A read-only admin cell: the id, linked to Stripe's dashboard."""
    from django.utils.html import format_html

    if not stripe_id:
        return "—"
    url = stripe_dashboard_url(stripe_id)
    if not url:
        return stripe_id
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, stripe_id)
