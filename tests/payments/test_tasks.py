"""Celery tasks: one retry policy, and names that cannot be confused."""

from celery import Task

from payments import tasks
from payments.gateway import GatewayUnavailable

# Tasks that only create or refresh what a page would create anyway keep Celery's
# retry; money operations are outbox rows (core/outbox.py), retried by the dispatcher.
CELERY_RETRY_TASKS = {
    "customer_create_task",
    "account_create_task",
    "balance_refresh_task",
}
OUTBOX_TASKS = {
    "payment_capture_task",
    "payment_cancel_task",
    "debit_execute_task",
    "refund_execute_task",
    "event_process_task",
    "event_batch_process_task",
}


def payments_tasks() -> dict[str, Task]:
    return {name: t for name, t in vars(tasks).items() if isinstance(t, Task)}


def test_only_tasks_outside_the_outbox_ask_celery_to_retry():
    retrying = {name: t for name, t in payments_tasks().items() if getattr(t, "autoretry_for", ())}
    assert set(retrying) == CELERY_RETRY_TASKS
    assert not OUTBOX_TASKS & set(retrying)  # no countdown held by the broker
    for task in retrying.values():
        policy = (task.retry_backoff, task.retry_backoff_max, task.retry_jitter, task.max_retries)
        assert policy == (tasks.RETRY_BACKOFF, tasks.RETRY_BACKOFF_MAX, True, tasks.MAX_RETRIES)
        assert tuple(task.autoretry_for) == (GatewayUnavailable,)


def test_the_celery_names_of_the_beat_tasks_are_kept():
    names = {t.name for t in payments_tasks().values()}
    assert {
        "payments.tasks.outbox_dispatch_task",
        "payments.tasks.authorizations_expire_task",
        "payments.tasks.balances_sweep_task",
        "payments.tasks.event_process_task",
        "payments.tasks.event_batch_process_task",
    } <= names
    assert "payments.tasks.events_process_task" not in names  # one letter from the other
