"""manage.py worker_health: a worker's liveness probe, against a real worker."""

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.celery_worker


def test_a_running_worker_answers(celery_worker_thread, capsys):
    call_command("worker_health", name=celery_worker_thread.hostname, timeout=5)

    assert f"{celery_worker_thread.hostname} is alive" in capsys.readouterr().out


def test_a_worker_that_is_not_there_fails_the_probe(celery_worker_thread):
    with pytest.raises(CommandError, match="celery@nobody did not answer within 1 s"):
        call_command("worker_health", name="celery@nobody", timeout=1)
