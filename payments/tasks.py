"""Celery tasks: each takes ids, calls one service, and retries with one shared policy.

acks_late + reject_on_worker_lost (settings) mean a killed worker's task runs
again; the services' idempotency keys make that second run harmless.

Webhook events reach the worker two ways: `event_batch_process_task` takes the ids
the web process gathered for a few milliseconds (payments/webhooks/outbox.py) and
processes each once; `event_process_task` processes one event, and is what retries
(a failed event from a batch, the sweeper, a replay from admin).
"""

from typing import Any

from celery import shared_task

from payments.gateway import GatewayUnavailable
from payments.models import StripeEvent
from payments.services import connect, customers, debits, events, intents, refunds

# The retry policy, the only one: exponential backoff from RETRY_BACKOFF seconds
# (with jitter), at most RETRY_BACKOFF_MAX between tries, at most MAX_RETRIES tries.
RETRY_BACKOFF = 2
RETRY_BACKOFF_MAX = 600
MAX_RETRIES = 10


def retrying(*errors: type[Exception]) -> dict[str, Any]:
    """Task options: retry on `errors` with the shared policy."""
    return {
        "autoretry_for": errors,
        "retry_backoff": RETRY_BACKOFF,
        "retry_backoff_max": RETRY_BACKOFF_MAX,
        "retry_jitter": True,
        "max_retries": MAX_RETRIES,
    }


# Tasks that call Stripe retry while it is unreachable; any other error is final.
STRIPE_RETRY = retrying(GatewayUnavailable)
# A webhook handler may fail for any passing reason (Stripe, the database); it is
# idempotent, so every failure is retried.
EVENT_RETRY = retrying(Exception)


@shared_task(**STRIPE_RETRY)
def customer_create_task(user_id: int) -> str:
    """Give a new buyer their Stripe Customer (checkout does it too if this is late)."""
    return customers.buyer_customer_ensure(user_id=user_id)


@shared_task(**STRIPE_RETRY)
def payment_capture_task(payment_id: int) -> str:
    """Capture a fulfilled order's payment."""
    return intents.payment_capture(payment_id=payment_id).status


@shared_task(**STRIPE_RETRY)
def payment_cancel_task(payment_id: int, reason: str = "requested_by_customer") -> str:
    """Release an authorisation (staff action)."""
    return intents.payment_cancel(payment_id=payment_id, reason=reason).status


@shared_task(**EVENT_RETRY)
def event_process_task(event_id: int, replay: bool = False) -> str:
    """Process one stored webhook event; a failure retries with the shared backoff."""
    try:
        return events.event_process(event_id=event_id, replay=replay)
    except StripeEvent.DoesNotExist:
        return "missing"  # deleted (or never committed): retrying cannot bring it back


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
            # event_process recorded the attempt and the error; the retries start here,
            # after the policy's first wait.
            event_process_task.apply_async((event_id,), countdown=RETRY_BACKOFF)
            outcome = "retrying"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@shared_task
def events_sweep_task() -> int:
    """Periodic: re-enqueue events that were stored but never processed."""
    return events.events_sweep()


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


@shared_task(**STRIPE_RETRY)
def debit_execute_task(debit_id: int) -> str:
    """Perform a contractor debit created by staff."""
    return debits.debit_execute(debit_id=debit_id).status


@shared_task(**STRIPE_RETRY)
def refund_execute_task(refund_id: int) -> str:
    """Send a staff-requested refund to Stripe."""
    return refunds.refund_execute(refund_id=refund_id).status
