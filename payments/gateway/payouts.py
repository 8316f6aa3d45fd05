"""Payouts of a connected account to its bank: "Pay out now" on a manual schedule, and
what the dashboard needs to say when the next automatic payout comes.

As in connect.py, the write says how to tell after a 500 whether it took effect.
"""

from __future__ import annotations

import stripe

from . import _core
from ._core import found, read_options, since, translated_errors, write

# One page of the account's newest balance transactions: money still pending is
# recent (days, never months), so it is on the first page.
PENDING_PAGE = 100


def payout_create(
    *, account: str, amount: int, currency: str, request_id: int, idempotency_key: str
) -> dict:
    """Pay `amount` of the connected account's available balance out to its bank
    (`payouts.create` with Stripe-Account), for our PayoutRequest `request_id`."""
    metadata = {"payout_request_id": str(request_id)}
    params: stripe.params.PayoutCreateParams = {
        "amount": amount,
        "currency": currency,
        "metadata": metadata,
    }
    recent: stripe.params.PayoutListParams = {"created": {"gte": since()}, "limit": 100}
    return write(
        "payout_create",
        idempotency_key,
        lambda options: _core.stripe_client().v1.payouts.create(params, options),
        lambda: found(
            "payout_find",
            lambda: _core.stripe_client().v1.payouts.list(recent, read_options(account)),
            metadata=metadata,
        ),
        account=account,
    )


def balance_pending_list(*, account: str) -> list[dict]:
    """The connected account's balance transactions still pending, each with its
    `net`, `currency` and `available_on` (when it joins the available balance)."""
    params: stripe.params.BalanceTransactionListParams = {"limit": PENDING_PAGE}
    with translated_errors("balance_pending_list"):
        listing = _core.stripe_client().v1.balance_transactions.list(params, read_options(account))
    return [txn.to_dict() for txn in listing.data if txn.status == "pending"]
