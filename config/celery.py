"""The Celery app. Settings come from Django settings under the CELERY_ namespace."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("marketplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_stale_connections(task=None, **kwargs):
    """Workers reuse their database connection (CELERY_DB_REUSE_MAX); drop it when it
    broke (e.g. the database restarted) or outlived CONN_MAX_AGE, so no task inherits
    a dead one. Not for a task run inline (eager): that connection is the caller's."""
    if task is not None and task.request.is_eager:
        return
    from django.db import close_old_connections

    close_old_connections()


# --- Request ids: a task logs the id of the request (or task) that enqueued it ---------


@signals.before_task_publish.connect
def _send_request_id(headers=None, **kwargs):
    from core.request_context import current_request_id

    if headers is not None and "request_id" not in headers and current_request_id():
        headers["request_id"] = current_request_id()


@signals.task_prerun.connect
def _adopt_request_id(task=None, **kwargs):
    from core.request_context import new_request_id, request_id_var

    if task is None or task.request.is_eager:
        return  # run inline: it is part of the caller's request, and keeps its id
    request_id_var.set(getattr(task.request, "request_id", None) or new_request_id())
