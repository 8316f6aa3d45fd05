import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse


@pytest.fixture
def committed(celery_eager, django_capture_on_commit_callbacks):
    """`committed(func, ...)`: call it, then run what it scheduled on commit (emails
    are sent by tasks after commit), tasks inline."""

    def run(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return run


GOOD_PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def signup(committed, monkeypatch):
    """`signup(client, **fields)`: send the form, then what it emails (the Stripe side
    of a sign-up, a Customer or a connected account, is left out: not these tests')."""
    from payments import tasks

    for task in (tasks.account_create_task, tasks.customer_create_task):
        monkeypatch.setattr(task, "delay", lambda *args, **kwargs: None)

    def post(client, **overrides):
        data = {
            "email": "new@example.com",
            "display_name": "New Person",
            "role": "buyer",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
        }
        data.update(overrides)
        return committed(client.post, reverse("accounts:signup"), data)

    return post


def sign_in_link(user):
    """The link in the newest sign-up email to the user's address."""
    (message, *_) = reversed([m for m in emails_to(user.email) if m.subject == "Finish signing up"])
    return link_in(message)


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
