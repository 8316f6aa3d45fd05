"""Celery tasks: one retry policy, and names that cannot be confused."""

from celery import Task

from payments import tasks
from payments.gateway import GatewayUnavailable

STRIPE_TASKS = {
    "customer_create_task",
    "payment_capture_task",
    "payment_cancel_task",
    "account_create_task",
    "balance_refresh_task",
    "debit_execute_task",
    "refund_execute_task",
}


def payments_tasks() -> dict[str, Task]:
    return {name: t for name, t in vars(tasks).items() if isinstance(t, Task)}


def test_every_task_that_retries_uses_the_one_policy():
    retrying = {name: t for name, t in payments_tasks().items() if getattr(t, "autoretry_for", ())}
    assert set(retrying) == STRIPE_TASKS | {"event_process_task"}
    for name, task in retrying.items():
        policy = (task.retry_backoff, task.retry_backoff_max, task.retry_jitter, task.max_retries)
        assert policy == (tasks.RETRY_BACKOFF, tasks.RETRY_BACKOFF_MAX, True, tasks.MAX_RETRIES)
        expected = (Exception,) if name == "event_process_task" else (GatewayUnavailable,)
        assert tuple(task.autoretry_for) == expected, name


def test_the_celery_names_of_the_beat_tasks_are_kept():
    names = {t.name for t in payments_tasks().values()}
    assert {
        "payments.tasks.events_sweep_task",
        "payments.tasks.authorizations_expire_task",
        "payments.tasks.balances_sweep_task",
        "payments.tasks.event_process_task",
        "payments.tasks.event_batch_process_task",
    } <= names
    assert "payments.tasks.events_process_task" not in names  # one letter from the other
