"""Email delivery, retried with backoff when the mail server is down."""

import smtplib

from celery import shared_task

from .services import notification_email


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=5,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=12,
)
def notification_email_task(notification_id: int) -> bool:
    """Send one notification's email (at most once: the row records when it was sent)."""
    return notification_email(notification_id=notification_id)
