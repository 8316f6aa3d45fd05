"""Periodic clean-up for accounts."""

from celery import shared_task

from .kept_uploads import kept_uploads_sweep


@shared_task
def kept_uploads_sweep_task() -> int:
    """Delete identity documents kept for a form that was never sent again (beat)."""
    return kept_uploads_sweep()
