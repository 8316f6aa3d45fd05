"""Celery tasks: each takes ids and calls one service.

Money operations are rows (core/outbox.py): a task runs one of them, and when it
fails for a passing reason (Stripe unreachable or rate limiting, the database
restarting) it makes the row due again after a backoff instead of asking Celery for
a countdown retry; the dispatcher (`outbox_dispatch_task`, on beat) hands it out
again. A message lost with a broker, or with a killed worker, is no loss either: the
row is still to do and the dispatcher hands it out once its lease runs out.

Webhook events reach the worker two ways: `event_batch_process_task` takes the ids
the web process gathered for a few milliseconds (payments/webhooks/outbox.py) and
processes each once; `event_process_task` processes one event (the dispatcher, a
replay from admin). A failed event is retried by the dispatcher after a backoff.
"""

from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.db import DatabaseError

from core import outbox
from payments.gateway import GatewayUnavailable
from payments.gateway.keys import row_dispatched
from payments.models import (
    ContractorDebit,
    Payment,
    Refund,
    StripeEvent,
    Transfer,
    TransferReversal,
)
from payments.services import connect, customers, debits, events, intents, refunds, transfers
from payments.services.waits import NotYet

# Failures that pass: the same try later can succeed (or the work it waits for is done).
PASSING = (GatewayUnavailable, DatabaseError, NotYet)

# Tasks that only refresh or create what the next page view would create anyway
# keep Celery's own retry: the shared policy is exponential backoff from
# RETRY_BACKOFF seconds (with jitter), at most RETRY_BACKOFF_MAX between tries.
RETRY_BACKOFF = 2
RETRY_BACKOFF_MAX = 600
MAX_RETRIES = 10
STRIPE_RETRY: dict[str, Any] = {
    "autoretry_for": (GatewayUnavailable,),
    "retry_backoff": RETRY_BACKOFF,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": MAX_RETRIES,
}


def _run(name: str, model: type, pk: int, work: Callable[[], str]) -> str:
    """Do one outbox row's work, alone (core.outbox.exclusive); a passing failure
    makes the row due again after a backoff, any other is raised (and logged by
    Celery) after the same."""
    with outbox.exclusive(name, pk) as mine:
        if not mine:
            return "busy"  # another worker is doing it right now
        try:
            # A new idempotency key after a stored 500 follows the row's hand-outs.
            with row_dispatched(model, pk):
                return work()
        except PASSING as exc:
            outbox.retry_later(model, pk, exc)
            return "retrying"
        except Exception as exc:
            outbox.retry_later(model, pk, exc)
            raise


@shared_task
def outbox_dispatch_task() -> dict:
    """Periodic: hand every overdue operation and webhook event to a worker again."""
    from payments.dispatch import dispatch_overdue

    return dispatch_overdue()


@shared_task(**STRIPE_RETRY)
def customer_create_task(user_id: int) -> str:
    """Give a new buyer their Stripe Customer (checkout does it too if this is late)."""
    return customers.buyer_customer_ensure(user_id=user_id)


@shared_task
def payment_capture_task(payment_id: int) -> str:
    """Capture a fulfilled order's payment."""
    return _run(
        "capture",
        Payment,
        payment_id,
        lambda: intents.payment_capture(payment_id=payment_id).status,
    )


@shared_task
def payment_cancel_task(payment_id: int) -> str:
    """Release an authorisation (staff, the buyer, or expiry asked for it)."""
    return _run(
        "cancel",
        Payment,
        payment_id,
        lambda: intents.payment_cancel_requested(payment_id=payment_id).status,
    )


@shared_task
def event_process_task(event_id: int, replay: bool = False) -> str:
    """Process one stored webhook event; a failure is retried by the dispatcher."""
    try:
        return events.event_process(event_id=event_id, replay=replay)
    except StripeEvent.DoesNotExist:
        return "missing"  # deleted (or never committed): retrying cannot bring it back
    except PASSING:
        return "retrying"  # event_process recorded it (when it could): due after a backoff


@shared_task
def event_batch_process_task(event_ids: list[int]) -> dict[str, int]:
    """Process a batch of stored webhook events (payments.webhooks.outbox), in order,
    each on its own: one that fails goes to `event_process_task` to retry alone."""
    outcomes: dict[str, int] = {}
    for event_id in event_ids:
        try:
            outcome = events.event_process(event_id=event_id)
        except StripeEvent.DoesNotExist:
            outcome = "missing"
        except Exception:
            # event_process recorded the attempt, the error and when to try again:
            # the dispatcher retries it then.
            outcome = "retrying"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@shared_task
def authorizations_expire_task() -> int:
    """Periodic: cancel authorisations nobody captured within AUTHORIZATION_TTL_HOURS."""
    return intents.authorizations_expire()


@shared_task(**STRIPE_RETRY)
def account_create_task(user_id: int) -> str:
    """Give a new contractor their connected account."""
    return connect.contractor_account_ensure(user_id=user_id)


@shared_task(**STRIPE_RETRY)
def balance_refresh_task(user_id: int, force: bool = False) -> int:
    """Refresh one contractor's cached balance (on demand or after balance.available)."""
    return len(connect.balance_refresh(user_id=user_id, force=force))


@shared_task
def balances_sweep_task() -> dict:
    """Periodic: refresh every contractor's balance, paced under Stripe's rate limit."""
    return connect.balances_sweep()


@shared_task
def debit_execute_task(debit_id: int) -> str:
    """Perform a contractor debit created by staff."""
    return _run(
        "debit",
        ContractorDebit,
        debit_id,
        lambda: debits.debit_execute(debit_id=debit_id).status,
    )


@shared_task
def refund_execute_task(refund_id: int) -> str:
    """Send a staff-requested refund to Stripe."""
    return _run(
        "refund", Refund, refund_id, lambda: refunds.refund_execute(refund_id=refund_id).status
    )


@shared_task
def transfer_execute_task(transfer_id: int) -> str:
    """Pay a contractor their fulfilled order's part of a checkout's charge."""
    return _run(
        "transfer",
        Transfer,
        transfer_id,
        lambda: transfers.transfer_execute(transfer_id=transfer_id).status,
    )


@shared_task
def transfer_reversal_execute_task(reversal_id: int) -> str:
    """Take a refunded order's share back from its contractor's transfer."""
    return _run(
        "reversal",
        TransferReversal,
        reversal_id,
        lambda: transfers.reversal_execute(reversal_id=reversal_id).status,
    )


@shared_task
def dispute_action_execute_task(action_id: int) -> str:
    """Send staff's answer to a dispute, or give a won dispute's money back."""
    from payments.models import DisputeAction
    from payments.services.dispute_actions import dispute_action_execute

    return _run(
        "dispute-action",
        DisputeAction,
        action_id,
        lambda: dispute_action_execute(action_id=action_id).status,
    )


@shared_task
def customer_email_sync_task(sync_id: int) -> str:
    """Give a buyer's Stripe Customer the email address they changed to."""
    from accounts.models import CustomerEmailSync

    return _run(
        "customer-email",
        CustomerEmailSync,
        sync_id,
        lambda: customers.customer_email_sync(sync_id=sync_id),
    )


@shared_task
def payout_request_execute_task(request_id: int) -> str:
    """Send a contractor's "Pay out now" to Stripe."""
    from payments.models import PayoutRequest
    from payments.services import payouts

    return _run(
        "payout",
        PayoutRequest,
        request_id,
        lambda: payouts.payout_request_execute(request_id=request_id).status,
    )
