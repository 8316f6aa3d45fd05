"""Locked status moves for every payments model (see core.statemachine.transition)."""

from collections.abc import Mapping
from typing import Any

from core.statemachine import transition
from payments.models import ContractorDebit, Payment, Refund, StripeEvent


def payment_transition(
    *, payment_id: int, status: str, changes: Mapping[str, Any] | None = None
) -> tuple[Payment, bool]:
    """Move a payment to `status` under a row lock (call inside transaction.atomic)."""
    return transition(Payment, payment_id, status, table=Payment.TRANSITIONS, changes=changes)


def refund_transition(
    *, refund_id: int, status: str, changes: Mapping[str, Any] | None = None
) -> tuple[Refund, bool]:
    """Move a refund to `status` under a row lock (call inside transaction.atomic)."""
    return transition(Refund, refund_id, status, table=Refund.TRANSITIONS, changes=changes)


def event_transition(
    *, event_id: int, status: str, changes: Mapping[str, Any] | None = None
) -> tuple[StripeEvent, bool]:
    """Move a stored webhook event to `status` under a row lock."""
    return transition(StripeEvent, event_id, status, table=StripeEvent.TRANSITIONS, changes=changes)


def debit_transition(
    *, debit_id: int, status: str, changes: Mapping[str, Any] | None = None
) -> tuple[ContractorDebit, bool]:
    """Move a contractor debit to `status` under a row lock."""
    return transition(
        ContractorDebit, debit_id, status, table=ContractorDebit.TRANSITIONS, changes=changes
    )
