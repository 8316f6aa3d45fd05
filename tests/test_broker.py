"""The demo's embedded broker never hands a worker a half-written message."""

import os
import subprocess
import sys
import threading

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
