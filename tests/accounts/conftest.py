import re

import pytest
from django.conf import settings
from django.core import mail


@pytest.fixture
def committed(celery_eager, django_capture_on_commit_callbacks):
    """`committed(func, ...)`: call it, then run what it scheduled on commit (emails
    are sent by tasks after commit), tasks inline."""

    def run(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return run


def emails_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def link_in(message) -> str:
    """The path of the (only) link to the shop in an email's text."""
    (url,) = re.findall(re.escape(settings.SITE_URL) + r"(/\S+)", message.body)
    return url


def can_log_in(email: str, password: str) -> bool:
    """Whether the login form accepts these (as a person would, through axes)."""
    from django.test import Client

    response = Client().post("/accounts/login/", {"username": email, "password": password})
    return response.status_code == 302
