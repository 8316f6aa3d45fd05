"""Account emails and periodic clean-up for accounts."""

import smtplib

from celery import shared_task
from django.core.mail import EmailMultiAlternatives

from .kept_uploads import kept_uploads_sweep


@shared_task
def kept_uploads_sweep_task() -> int:
    """Delete identity documents kept for a form that was never sent again (beat)."""
    return kept_uploads_sweep()


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def account_email_task(*, to: str, subject: str, body: str, html: str = "") -> None:
    """Send one account email (reset, verification, change of address); retried while
    the mail server is down. Its links expire on their own, so a late one is harmless."""
    message = EmailMultiAlternatives(subject=subject, body=body, to=[to])
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
