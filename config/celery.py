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
