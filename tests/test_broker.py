"""The demo's embedded broker never hands a worker a half-written message, and a
worker on Redis rides out a broker outage."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest
import redis
from django.conf import settings
from kombu import Connection, Exchange, Queue
from kombu.transport import filesystem

from config.broker import Transport


def test_without_redis_the_demo_settings_choose_the_atomic_file_broker(tmp_path):
    # Under pytest the fallback is in-memory, so read the settings as the demo does.
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; "
        "django.setup(); from django.conf import settings as s; "
        "print(s.CELERY_BROKER_URL, s.CELERY_BROKER_TRANSPORT)"
    )
    env = {**os.environ, "REDIS_URL": "", "CELERY_BROKER_URL": "", "VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["filesystem://localhost/", "config.broker.Transport"]
    assert issubclass(Transport, filesystem.Transport)


def test_every_message_arrives_whole_while_a_consumer_polls(tmp_path):
    folder = tmp_path / "messages"
    folder.mkdir()
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(tmp_path / "control"),
        "store_processed": False,
        "polling_interval": 0.001,
    }
    queue = Queue("q", Exchange("q"), "q")
    count = 1500
    received, errors = [], []

    def consume():
        with Connection(
            "filesystem://localhost/",
            transport="config.broker.Transport",
            transport_options=options,
        ) as connection:
            inbox = connection.SimpleQueue(queue)
            while len(received) < count:
                try:
                    message = inbox.get(timeout=10)
                except inbox.Empty:
                    return
                except Exception as exc:  # the stock transport fails here now and then
                    errors.append(exc)
                    continue
                received.append(message.payload["n"])
                message.ack()

    consumer = threading.Thread(target=consume)
    consumer.start()
    with Connection(
        "filesystem://localhost/", transport="config.broker.Transport", transport_options=options
    ) as connection:
        outbox = connection.SimpleQueue(queue)
        for n in range(count):
            outbox.put({"n": n, "padding": "x" * 2000})
    consumer.join(timeout=60)

    assert errors == []
    assert sorted(received) == list(range(count))
    assert not list(folder.glob("*.part"))


# --- Redis: a broker outage must not stop the worker ------------------------------


class PrivateRedis:
    """A redis-server of our own on a free port, which the test may kill and start
    again: never done to a shared one. Every write is on disk before Redis answers, so
    a restart finds what a killed server held."""

    def __init__(self, executable, folder):
        self.executable, self.folder = executable, folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = None
        self.client = redis.Redis(port=self.port, socket_timeout=2)

    def start(self):
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.kill()
                    pytest.fail("the private redis-server did not start")
                time.sleep(0.02)

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=5)
        self.client.connection_pool.disconnect()


@pytest.fixture
def private_redis(tmp_path):
    executable = shutil.which("redis-server")
    if executable is None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(executable, tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()


def test_a_worker_rides_out_a_redis_outage_with_a_task_unacknowledged(private_redis):
    # A connection as a worker's: the task queue on the default channel, a fanout queue
    # on another (Celery's gossip and remote control), one task delivered and running
    # (acks_late), and the next BRPOP sent.
    connection = Connection(
        f"redis://127.0.0.1:{private_redis.port}/0", transport="config.redis_transport.Transport"
    )
    tasks = Queue("tasks", Exchange("tasks"), "tasks")
    connection.Producer().publish(
        {"n": 1}, exchange=tasks.exchange, routing_key="tasks", declare=[tasks]
    )
    running = []
    connection.Consumer(
        [tasks], callbacks=[lambda body, message: running.append(message)]
    ).consume()
    gossip = Queue("gossip.worker", Exchange("gossip", type="fanout"), auto_delete=True)
    connection.Consumer([gossip], channel=connection.channel(), callbacks=[]).consume()
    deadline = time.monotonic() + 5
    while not running and time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            connection.drain_events(timeout=0.2)
    for _ in range(2):  # the first may only read the fanout subscription's reply
        with contextlib.suppress(TimeoutError):
            connection.drain_events(timeout=0.1)
    assert len(running) == 1
    assert private_redis.client.hlen("unacked") == 1
    assert connection.default_channel._in_poll  # the next BRPOP awaits its reply

    # Redis goes away. Celery's consumer then collects and closes the connection
    # (`on_connection_error_after_connected`) and ignores connection errors there,
    # nothing else. Closing the gossip channel fails, so `collect()` detaches the
    # transport before closing the task channel, and closing the task channel again
    # restored its unacknowledged message through a pool rebuilt from the detached
    # transport: AttributeError("'NoneType' object has no attribute 'hostname'"), and
    # the worker stopped ("Unrecoverable error").
    private_redis.kill()
    connection.collect(socket_timeout=5)
    connection.close()

    # Redis is back; the task finishes and is acknowledged on its (closed) channel, so
    # it is not handed out again after the visibility timeout.
    private_redis.start()
    assert private_redis.client.hlen("unacked") == 1
    running[0].ack()
    assert private_redis.client.hlen("unacked") == 0
    assert private_redis.client.llen("tasks") == 0
