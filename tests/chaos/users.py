"""People acting on the shop over HTTP, as their browsers would: a contractor presses
"Mark fulfilled", staff submit the admin refund form.

Each browser holds a logged-in session (made in the database, as after a login:
the suite tests outages, not the login form) and a CSRF cookie with its token
echoed in the form, and follows the redirect the shop answers with, so every page
the person would see is checked, not only the POST.
"""

from __future__ import annotations

import secrets
import string
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import import_module

import httpx
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

from accounts.models import User
from core.money import to_decimal_string
from payments.models import Payment
from shop.models import Order

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@dataclass
class Visit:
    """What one action showed the person: each status (the POST, then the page it
    redirected to), or the error when no answer came (the server was gone)."""

    what: str
    statuses: list[int] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and all(200 <= s < 400 for s in self.statuses)

    @property
    def server_error(self) -> bool:
        return any(s >= 500 for s in self.statuses)

    def __str__(self) -> str:
        return f"{self.what}: {self.error or '→'.join(map(str, self.statuses))}"


def _session_for(user: User) -> str:
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = MODEL_BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


class Browser:
    def __init__(self, base_url: str, user: User) -> None:
        self.user = user
        # Django accepts the unmasked 32-character secret as the form's token.
        self.csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
        self._base_url = base_url
        self._cookies = {
            settings.SESSION_COOKIE_NAME: _session_for(user),
            settings.CSRF_COOKIE_NAME: self.csrf,
        }

    def post(self, what: str, path: str, data: dict[str, str]) -> Visit:
        visit = Visit(what)
        # A client per action: actions of one person may run side by side.
        with httpx.Client(base_url=self._base_url, cookies=self._cookies, timeout=60) as client:
            try:
                response = client.post(path, data={**data, "csrfmiddlewaretoken": self.csrf})
                visit.statuses.append(response.status_code)
                if response.is_redirect:
                    visit.statuses.append(client.get(response.headers["location"]).status_code)
            except httpx.HTTPError as exc:
                visit.error = f"{type(exc).__name__}: {exc}"[:200]
        return visit

    def get(self, what: str, path: str) -> Visit:
        visit = Visit(what)
        with httpx.Client(base_url=self._base_url, cookies=self._cookies, timeout=60) as client:
            try:
                visit.statuses.append(client.get(path).status_code)
            except httpx.HTTPError as exc:
                visit.error = f"{type(exc).__name__}: {exc}"[:200]
        return visit


def fulfil(browser: Browser, order: Order) -> Visit:
    """The contractor presses "Mark fulfilled" on their sales page."""
    return browser.post(f"fulfil order {order.pk}", f"/sales/{order.public_id}/fulfil/", {})


def refund(browser: Browser, payment: Payment, amount: int) -> Visit:
    """Staff submit the admin refund form for `amount` (minor units), policy defaults."""
    return browser.post(
        f"refund payment {payment.pk}",
        f"/admin/payments/payment/{payment.pk}/refund/",
        {
            "amount": to_decimal_string(amount, payment.currency),
            "reason": "requested_by_customer",
            "note": "chaos suite",
            "reverse_transfer": "on",
            "refund_application_fee": "on",
        },
    )


def all_at_once(actions: list, workers: int = 10) -> list[Visit]:
    """Run the actions (callables returning a Visit) side by side, as many people would."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda action: action(), actions))
