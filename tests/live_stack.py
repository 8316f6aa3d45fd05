"""The real stack in one test process: the offline Stripe sandbox on a free port
forwarding signed webhooks to Django's live server, and a real Celery worker
(Redis when REDIS_URL is set, as in CI) consuming the tasks.

A plugin (registered in tests/conftest.py) rather than a conftest, so the
integration and the browser (e2e) tests share one sandbox and one worker in a
session: two workers on one Celery app, each switching the default queue, lose
tasks.
"""

import threading
import time
import uuid

import pytest
from django.urls import reverse

from payments import gateway
from stripe_sandbox.testing import run_sandbox


@pytest.fixture(scope="session", autouse=False)
def short_lived_connections():
    """Threads of the live server close their connections after each request, so the
    test database can be dropped at the end."""
    from django.db import connections

    connections.settings["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(scope="session")
def stripe_sandbox(short_lived_connections, live_server):
    """The sandbox, pointed at the live server's webhook endpoints.

    Money stays pending for 2 s after a capture, so tests see pending, then available.
    """
    with run_sandbox(
        forward_url=live_server.url + reverse("payments:webhook_platform"),
        forward_connect_url=live_server.url + reverse("payments:webhook_connect"),
        available_after=2.0,
        webhook_retry_base=0.2,
    ) as handle:
        yield handle


@pytest.fixture(scope="session")
def celery_worker_thread(django_db_blocker):
    """A real Celery worker in a thread, on its own queue so no stale task leaks in."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connection

    from config.celery import app

    def close_connection(**kwargs):
        # The worker's threads must not keep the test database open past its teardown.
        # Not the test's own thread: a task run eagerly there (celery_eager) would close
        # the connection of the test's transaction under it.
        if threading.current_thread() is not threading.main_thread():
            connection.close()

    task_postrun.connect(close_connection, weak=False)

    queue = f"test-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    app.conf.task_always_eager = False
    with (
        django_db_blocker.unblock(),
        start_worker(
            app,
            pool="threads",
            concurrency=2,
            perform_ping_check=False,
            queues=[queue],
            shutdown_timeout=20,
        ) as worker,
    ):
        WORKER.append(worker)
        yield worker
        WORKER.clear()
    task_postrun.disconnect(close_connection)


# The session's worker once started: every later test's tasks reach it, not only
# the live stack's.
WORKER: list = []


@pytest.fixture(autouse=True)
def _worker_quiet_before_flush(request):
    """A transactional test's database is emptied with TRUNCATE afterwards. Once the
    session's worker runs, a task this test enqueued on commit (a notification, a
    capture) may still hold row locks then, and PostgreSQL kills the TRUNCATE as a
    deadlock: wait for the worker to be idle first (torn down before the flush, as
    it is set up after the database)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or {
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if not transactional:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    if WORKER:
        settle(None)


@pytest.fixture
def live_stack(stripe_sandbox, celery_worker_thread, transactional_db, settings):
    """Shop settings pointing at a freshly reset sandbox, with a fresh gateway client.

    The database is emptied after each test, so the sandbox starts empty too.
    """
    stripe_sandbox.reset()
    settings.STRIPE_API_BASE = stripe_sandbox.base_url
    settings.STRIPE_SECRET_KEY = stripe_sandbox.secret_key
    settings.STRIPE_PUBLISHABLE_KEY = stripe_sandbox.publishable_key
    settings.STRIPE_WEBHOOK_SECRET = stripe_sandbox.webhook_secret
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = stripe_sandbox.connect_webhook_secret
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    gateway.reset_client()
    yield stripe_sandbox
    settle(stripe_sandbox)
    gateway.reset_client()


def settle(sandbox, *, quiet_for=0.25, timeout=10.0):
    """Wait until no webhook is on its way (from `sandbox`, when given) and the worker
    has nothing queued or running.

    The database is emptied after each test with TRUNCATE; a late webhook still being
    processed then holds row locks that deadlock it. Returns after `timeout` anyway: a
    task waiting for a long retry countdown must not hold the suite up.
    """
    from celery.worker import state

    from config.celery import app
    from payments.webhooks.outbox import outbox

    queue = app.conf.task_default_queue
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        deadline = time.monotonic() + timeout
        quiet_since = None
        while time.monotonic() < deadline:
            busy = (
                (sandbox is not None and not sandbox.sandbox.dispatcher.idle)
                or outbox.pending
                or state.active_requests
                or state.reserved_requests
                or _waiting(connection, channel, queue)
            )
            now = time.monotonic()
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= quiet_for:
                return
            time.sleep(0.02)


def wait_for(check, *, timeout=15.0, interval=0.05, what="condition"):
    """Poll `check()` until it returns something truthy; fail with `what` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout} s waiting for {what}")


def _waiting(connection, channel, queue) -> int:
    """Messages in `queue` (Redis has no key for an empty queue: that is 0)."""
    try:
        return channel.queue_declare(queue=queue, passive=True).message_count
    except connection.channel_errors:
        return 0
