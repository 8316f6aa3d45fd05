"""Account emails that carry a secret link (reset, verification, change of address).

They are not notifications: a notification is also shown in the app and kept in the
database, where a link that proves an address or resets a password must not be (a
signed-in person could confirm an address they cannot read, and staff could read
every link in admin). They are rendered now and sent by a Celery task after commit,
so the page answers in the same time whether or not an account exists, and a mail
server that is down is retried instead of failing the page.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string

# How many messages of one kind one address may receive in an hour: enough for "I did
# not get it, send it again", too few to flood someone's inbox from our forms.
PER_HOUR = 3


def email_allowed(kind: str, address: str, *, per_hour: int = PER_HOUR) -> bool:
    """Count one `kind` message to `address`; False once the hour's allowance is spent."""
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]
    key = f"accounts:mail:{kind}:{digest}"
    if cache.add(key, 1, timeout=3600):
        return True
    try:
        return cache.incr(key) <= per_hour
    except ValueError:  # expired between add() and incr(): a new hour
        cache.add(key, 1, timeout=3600)
        return True


def account_email_send(*, to: str, template: str, context: dict) -> None:
    """Email `to` the message in templates/registration/emails/<template>.txt (its
    first line is the subject) and .html, once the surrounding transaction commits."""
    from .tasks import account_email_task

    context = {**context, "site_url": settings.SITE_URL}
    text = render_to_string(f"registration/emails/{template}.txt", context).strip()
    subject, _, body = text.partition("\n")
    html = render_to_string(f"registration/emails/{template}.html", context)
    message = {"to": to, "subject": subject.strip(), "body": body.strip(), "html": html}
    transaction.on_commit(lambda: account_email_task.delay(**message))
