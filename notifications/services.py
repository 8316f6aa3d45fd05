"""notify(): record a message for one person once, and email it after commit."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User

from .models import Notification


def notify(*, recipient: User, kind: str, key: str, context: dict, link: str = "") -> bool:
    """Tell `recipient` about an event of `kind`, once per `key`; returns whether it is new.

    The message is rendered now from templates/emails/<kind>.txt (first line is the
    subject) and .html, stored, shown in the app, and emailed by a Celery task after
    the surrounding transaction commits: a failing mail server never touches the
    money operation that caused the message.
    """
    from .tasks import notification_email_task

    full_key = f"{kind}:{key}:{recipient.pk}"
    if Notification.objects.filter(key=full_key).exists():
        return False
    context = {**context, "recipient": recipient, "site_url": settings.SITE_URL, "link": link}
    subject, _, body = render_to_string(f"emails/{kind}.txt", context).strip().partition("\n")
    html = render_to_string(f"emails/{kind}.html", context)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient,
                kind=kind,
                key=full_key,
                subject=subject.strip()[:255],
                body_text=body.strip(),
                body_html=html,
                link=link,
            )
    except IntegrityError:
        return False  # a concurrent delivery of the same event got there first
    transaction.on_commit(lambda: notification_email_task.delay(notification.pk))
    return True


def notification_email(*, notification_id: int) -> bool:
    """Email one notification unless it was already sent; raises on SMTP failure."""
    from django.core.mail import EmailMultiAlternatives

    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    if notification.emailed_at:
        return False
    body = notification.body_text
    if notification.link:
        body += f"\n\n{settings.SITE_URL}{notification.link}"
    message = EmailMultiAlternatives(
        subject=notification.subject, body=body, to=[notification.recipient.email]
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    Notification.objects.filter(pk=notification.pk).update(
        email_attempts=notification.email_attempts + 1
    )
    try:
        message.send()
    except Exception as exc:
        Notification.objects.filter(pk=notification.pk).update(last_error=str(exc)[:2000])
        raise
    Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now(), last_error="")
    return True


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
