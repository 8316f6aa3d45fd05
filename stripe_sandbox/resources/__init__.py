"""Stripe API resources: each module holds the logic and its ``ROUTES``."""

from __future__ import annotations

from .common import Endpoint


def all_routes() -> list[Endpoint]:
    from . import (
        account_links,
        accounts,
        application_fees,
        balance,
        charges,
        customers,
        disputes,
        events,
        files,
        payment_intents,
        payment_methods,
        payouts,
        refunds,
        setup_intents,
        transfers,
        webhook_endpoints,
    )

    modules = [
        customers,
        payment_methods,
        setup_intents,
        payment_intents,
        charges,
        refunds,
        accounts,
        account_links,
        files,
        balance,
        transfers,
        application_fees,
        payouts,
        disputes,
        events,
        webhook_endpoints,
    ]
    return [endpoint for module in modules for endpoint in module.ROUTES]
