"""Gunicorn settings for the shop: `gunicorn config.wsgi -c gunicorn.conf.py`.

Sized from the machine's cores unless the environment says otherwise; `make bench`
uses this file unchanged and prints the numbers it resolved to.

    GUNICORN_BIND     address to listen on (default 127.0.0.1:8000; behind a proxy)
    GUNICORN_WORKERS  worker processes (default: 2 × cores + 1)
    GUNICORN_THREADS  threads per worker (default 1: the sync worker)
"""

import os

cores = os.cpu_count() or 1

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Requests are short and wait mostly on PostgreSQL and Redis: a few processes per core
# keep both cores busy while some wait. Threads only when asked: each thread holds
# its own database connection, and the GIL shares one core among them.
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * cores + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
worker_class = "gthread" if threads > 1 else "sync"
# Load Django once in the master, then fork: workers share its memory pages and start
# in milliseconds. Database connections are opened lazily, after the fork.
preload_app = True
# The proxy in front keeps client connections; keep-alive only matters for gthread.
keepalive = 5
timeout = 30
graceful_timeout = 20
accesslog = None  # the proxy logs requests; Django logs errors
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def child_exit(server, worker):
    """Metrics in multiprocess mode (ops/metrics.py): forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
