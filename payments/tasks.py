"""Celery tasks: each takes ids, calls one service, and retries when Stripe is unreachable.

acks_late + reject_on_worker_lost (settings) mean a killed worker's task runs
again; the services' idempotency keys make that second run harmless.
"""

from celery import shared_task

from payments.gateway import GatewayUnavailable
from payments.models import StripeEvent
from payments.services import connect, customers, debits, events, intents, refunds

RETRY = {
    "autoretry_for": (GatewayUnavailable,),
    "retry_backoff": 2,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 10,
}


@shared_task(**RETRY)
def customer_create_task(user_id: int) -> str:
    """Give a new buyer their Stripe Customer (checkout does it too if this is late)."""
    return customers.buyer_customer_ensure(user_id=user_id)


@shared_task(**RETRY)
def payment_capture_task(payment_id: int) -> str:
    """Capture a fulfilled order's payment."""
    return intents.payment_capture(payment_id=payment_id).status


@shared_task(**RETRY)
def payment_cancel_task(payment_id: int, reason: str = "requested_by_customer") -> str:
    """Release an authorisation (staff action)."""
    return intents.payment_cancel(payment_id=payment_id, reason=reason).status


@shared_task(bind=True, max_retries=8)
def event_process_task(self, event_id: int, replay: bool = False) -> str:
    """Process one stored webhook event; any failure retries with exponential backoff."""
    try:
        return events.event_process(event_id=event_id, replay=replay)
    except StripeEvent.DoesNotExist:
        return "missing"  # deleted (or never committed): retrying cannot bring it back
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(2 ** (self.request.retries + 1), 300)) from exc


@shared_task
def events_process_task(event_ids: list[int]) -> dict[str, int]:
    """Process a batch of stored webhook events (payments.webhooks.outbox), in order,
    each on its own: one that fails goes to `event_process_task` to retry alone."""
    outcomes: dict[str, int] = {}
    for event_id in event_ids:
        try:
            outcome = events.event_process(event_id=event_id)
        except StripeEvent.DoesNotExist:
            outcome = "missing"
        except Exception:
            # event_process recorded the attempt and the error; the retries start here.
            event_process_task.apply_async((event_id,), countdown=2)
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


@shared_task(**RETRY)
def account_create_task(user_id: int) -> str:
    """Give a new contractor their connected account."""
    return connect.contractor_account_ensure(user_id=user_id)


@shared_task(**RETRY)
def balance_refresh_task(user_id: int, force: bool = False) -> int:
    """Refresh one contractor's cached balance (on demand or after balance.available)."""
    return len(connect.balance_refresh(user_id=user_id, force=force))


@shared_task
def balances_sweep_task() -> dict:
    """Periodic: refresh every contractor's balance, paced under Stripe's rate limit."""
    return connect.balances_sweep()


@shared_task(**RETRY)
def debit_execute_task(debit_id: int) -> str:
    """Perform a contractor debit created by staff."""
    return debits.debit_execute(debit_id=debit_id).status


@shared_task(**RETRY)
def refund_execute_task(refund_id: int) -> str:
    """Send a staff-requested refund to Stripe."""
    return refunds.refund_execute(refund_id=refund_id).status
