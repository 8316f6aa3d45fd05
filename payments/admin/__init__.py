"""Django admin for the money: payments and refunds, events, debits, balances, payouts."""

from . import debits, events, other, payments, reconcile  # noqa: F401 - registers on import
