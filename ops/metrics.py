"""Prometheus metrics: counters the processes keep, and gauges read from the database.

Counters (webhooks received/processed/failed, Stripe calls, captures, refunds…) are
incremented where things happen, in the web processes and the Celery workers alike.
With PROMETHEUS_MULTIPROC_DIR set (one folder per host, shared by gunicorn's workers
and Celery's), /metrics adds up every process's files (prometheus_client's multiprocess
mode); without it, a process reports its own counts. Gauges that describe the backlog
(oldest unprocessed event, overdue captures, queue depth) are read from the database and
the broker when /metrics is scraped, so they hold whichever process answers.
"""

import os

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily


class BacklogCollector:
    """Gauges computed at scrape time from the database and the broker."""

    def collect(self):
        from ops.backlog import backlog

        for name, (help_text, value) in backlog().items():
            gauge = GaugeMetricFamily(f"shop_{name}", help_text)
            gauge.add_metric([], value)
            yield gauge


def registry() -> CollectorRegistry:
    """What /metrics shows: every process's counters (multiprocess mode) or this one's,
    plus the backlog gauges."""
    from prometheus_client import REGISTRY

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        found = CollectorRegistry()
        multiprocess.MultiProcessCollector(found)
    else:
        found = REGISTRY
    scrape = CollectorRegistry()
    scrape.register(_Merged(found))
    scrape.register(BacklogCollector())
    return scrape


class _Merged:
    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self):
        yield from self.source.collect()


def exposition() -> bytes:
    return generate_latest(registry())
