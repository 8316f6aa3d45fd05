"""Stored webhook events reach Celery in batches (payments/webhooks/outbox.py)."""

import logging
import os
import time
from unittest import mock

import pytest
from django.utils import timezone

from payments.models import StripeEvent
from payments.tasks import event_batch_process_task
from payments.webhooks import handlers
from payments.webhooks.outbox import Outbox
from tests.factories import PaymentFactory
from tests.payments.test_webhooks import intent_event


class Recorder:
    """A send function that remembers each batch."""

    def __init__(self, fail_first=False):
        self.batches: list[list[int]] = []
        self.fail_first = fail_first

    def __call__(self, ids):
        if self.fail_first:
            self.fail_first = False
            raise ConnectionError("broker down")
        self.batches.append(list(ids))

    def wait(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.batches) < count and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.batches


@pytest.fixture
def window(settings):
    def set_window(milliseconds, batch=50):
        settings.WEBHOOK_ENQUEUE_WINDOW_MS = milliseconds
        settings.WEBHOOK_ENQUEUE_BATCH = batch

    return set_window


def test_ids_stored_within_the_window_go_out_as_one_batch(window):
    window(100)
    sent = Recorder()
    box = Outbox(sent)

    for event_id in (1, 2, 3):
        box.add(event_id)
    assert sent.batches == []  # nothing yet: the window is still open
    assert box.pending == 3

    assert sent.wait(1) == [[1, 2, 3]]
    assert box.pending == 0


def test_a_full_batch_leaves_at_once_and_flush_sends_the_rest(window):
    window(60_000, batch=3)
    sent = Recorder()
    box = Outbox(sent)

    for event_id in range(1, 8):
        box.add(event_id)

    assert sent.wait(2) == [[1, 2, 3], [4, 5, 6]]  # long before the minute is up
    box.flush()
    assert sent.batches == [[1, 2, 3], [4, 5, 6], [7]]


@pytest.mark.parametrize("eager", [False, True], ids=["window-0", "celery-eager"])
def test_without_a_window_or_with_eager_celery_each_id_is_sent_inline(
    window, eager, celery_eager, settings
):
    window(0 if not eager else 100)
    celery_eager.conf.task_always_eager = eager
    sent = Recorder()

    Outbox(sent).add(42)

    assert sent.batches == [[42]]  # before add() returned


def test_a_send_that_fails_is_logged_never_raised_and_the_next_batch_still_goes(window, caplog):
    window(5)
    sent = Recorder(fail_first=True)
    box = Outbox(sent)

    with caplog.at_level(logging.ERROR, logger="payments.webhooks.outbox"):
        box.add(1)
        deadline = time.monotonic() + 5
        while "the sweeper will" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.005)
        box.add(2)
        assert sent.wait(1) == [[2]]

    assert "Could not enqueue webhook events [1]" in caplog.text


def test_a_forked_child_starts_with_an_empty_outbox(window):
    window(60_000)
    sent = Recorder()
    box = Outbox(sent)
    box.add(1)

    child = os.fork()
    if child == 0:  # the child: the parent's id is not its to send
        os._exit(0 if box.pending == 0 else 1)
    _, status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert box.pending == 1
    box.flush()
    assert sent.batches == [[1]]


@pytest.mark.django_db
def test_batch_task_processes_each_event_and_sends_a_failure_to_retry_alone():
    good, failing = PaymentFactory(), PaymentFactory()
    rows = []
    for payment in (good, failing):
        body = intent_event(payment, "requires_capture")
        rows.append(
            StripeEvent.objects.create(
                stripe_id=body["id"], type=body["type"], endpoint="platform", payload=body
            )
        )
    real_apply = handlers.payment_apply_intent

    def apply(intent):
        if intent["id"] == failing.stripe_payment_intent_id:
            raise RuntimeError("db away")
        return real_apply(intent)

    with mock.patch("payments.webhooks.handlers.payment_apply_intent", side_effect=apply):
        outcomes = event_batch_process_task([rows[0].pk, rows[1].pk, 999_999])

    assert outcomes == {"processed": 1, "retrying": 1, "missing": 1}
    states = dict(StripeEvent.objects.values_list("pk", "status"))
    assert states == {rows[0].pk: "processed", rows[1].pk: "failed"}
    # Retried alone by the dispatcher, after the first backoff (2 s ± 20 %).
    failed = StripeEvent.objects.get(pk=rows[1].pk)
    wait = (failed.due_at - timezone.now()).total_seconds()
    assert 1 < wait <= 2.4
    good.refresh_from_db()
    assert good.status == "authorized"
