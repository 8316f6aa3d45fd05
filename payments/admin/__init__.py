"""Django admin for the money: payments and refunds, transfers, events, debits, balances,
payouts."""

from . import (  # noqa: F401 - registers on import
    debits,
    disputes,
    events,
    other,
    payments,
    payouts,
    reconcile,
    transfers,
)
