"""The sandbox's state and the operations shared by the API, the control
endpoints and the browser pages.

All state lives in one :class:`Sandbox`. Every change happens inside
:meth:`Sandbox.mutation`, which holds a re-entrant lock (API handlers run on the
server's event loop, browser pages and tests may call in from other threads)
and, on the way out, settles due balances, emits ``balance.available``, writes
changed objects to SQLite and hands new events to the webhook dispatcher.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from . import automatic_payouts, ids, versions
from .clock import Clock
from .config import SandboxConfig
from .errors import StripeError
from .faults import Faults
from .idempotency import IdempotencyCache
from .money import Ledger
from .render import public
from .request_log import LoggedCall
from .store import Obj, Store
from .webhooks.delivery import Delivery, Dispatcher, Target

API_VERSION = versions.DEFAULT
PLATFORM_ACCOUNT_ID = "acct_1SandboxPlatformAcct0"
APPLICATION_ID = "ca_1SandboxPlatformApplication"


@dataclass
class Ctx:
    """Who is asking: the account scope and the request the changes belong to."""

    sandbox: Sandbox
    account: str | None = None
    request_id: str | None = None
    idempotency_key: str | None = None
    publishable: bool = False

    @property
    def store(self) -> Store:
        return self.sandbox.store

    @property
    def ledger(self) -> Ledger:
        return self.sandbox.ledger

    def now(self) -> int:
        return self.sandbox.clock.now()

    def emit(
        self,
        event_type: str,
        obj: Obj,
        previous: dict[str, Any] | None = None,
        *,
        account: Any = ...,
    ) -> Obj:
        return self.sandbox.emit(self, event_type, obj, previous, account=account)


class Sandbox:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        if not config.webhook_secret:
            config.webhook_secret = ids.webhook_secret()
        if not config.connect_webhook_secret:
            config.connect_webhook_secret = ids.webhook_secret()
        self.clock = Clock()
        self.lock = threading.RLock()
        self.store = Store(config.db_path)
        self.ledger = Ledger(self)
        self.ledger.rebuild()
        self.faults = Faults()
        # Recent /v1 calls: lets tests and benchmarks see the call rate the
        # "Stripe" side actually received, and what each call sent.
        self.request_log: deque[LoggedCall] = deque(maxlen=200_000)
        # Keep parameter values in the log too: for tests only (`run_sandbox(
        # record_values=True)`); never in the demo, where a confirm carries a card.
        self.record_values = False
        self.idempotency = IdempotencyCache(self.store, config.idempotency_capacity)
        self.dispatcher = Dispatcher(
            retry_base=config.webhook_retry_base,
            max_attempts=config.webhook_max_attempts,
            timeout=config.webhook_timeout,
            reorder_window=config.reorder_window,
            on_delivered=self._delivered,
        )
        self.latency_ms = config.latency_ms
        self._initial = (
            config.available_after,
            config.account_link_ttl,
            config.forward_url,
            config.forward_connect_url,
            config.webhook_secret,
            config.connect_webhook_secret,
            config.latency_ms,
            config.webhook_retry_base,
            config.webhook_max_attempts,
        )
        self._outbox: list[Delivery] = []
        self._initial_payout_interval = config.payout_interval
        automatic_payouts.follow_default_interval(self)
        self.store.flush()

    # --- transactions ----------------------------------------------------------

    @contextmanager
    def mutation(self) -> Iterator[None]:
        """Hold the state lock; on exit (even by an error) finish the change."""
        with self.lock:
            try:
                yield
            finally:
                self._finish()

    def ctx(self, account: str | None = None) -> Ctx:
        """A context for changes that are not caused by an API request."""
        return Ctx(self, account=account)

    def _finish(self) -> None:
        ledger = self.ledger
        ledger.settle()
        automatic_payouts.run_due(self)
        if ledger.became_available:
            accounts, ledger.became_available = ledger.became_available, set()
            for account in sorted(accounts, key=lambda acct: acct or ""):
                balance = ledger.balance(account, self.default_currency(account))
                self.emit(self.ctx(account), "balance.available", balance, account=account)
        self.store.flush()
        if self._outbox:
            outbox, self._outbox = self._outbox, []
            self.dispatcher.submit(outbox)

    def settle_due(self) -> None:
        """Called periodically: make due pending funds available."""
        due = self.ledger.next_due()
        if (due is not None and due <= self.clock.time()) or automatic_payouts.due(self):
            with self.mutation():
                pass

    # --- events ------------------------------------------------------------------

    def emit(
        self,
        ctx: Ctx,
        event_type: str,
        obj: Obj,
        previous: dict[str, Any] | None = None,
        *,
        account: Any = ...,
    ) -> Obj:
        """Record an event about ``obj`` and queue its webhook deliveries.

        Events about objects that live on a connected account (or caused by a
        request made with ``Stripe-Account``) are Connect events: they carry
        ``account`` and go to the Connect endpoint.
        """
        if account is ...:
            account = obj.get("_account", ctx.account)
        snapshot = json.loads(json.dumps(public(obj)))
        data: dict[str, Any] = {"object": snapshot}
        if previous:
            data["previous_attributes"] = previous
        targets = self._targets(event_type, connect=account is not None)
        event: Obj = {
            "id": ids.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.clock.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": len(targets),
            "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
            "type": event_type,
        }
        if account is not None:
            event["account"] = account
        self.store.add(event, account)
        if targets:
            body = public(event)
            payloads: dict[str, bytes] = {}
            for target in targets:
                # Each endpoint gets the event in its own API version (Stripe renders
                # the object in it too; the sandbox's objects have one shape, so only
                # the version field differs).
                version = target.api_version or API_VERSION
                if version not in payloads:
                    payloads[version] = json.dumps(
                        {**body, "api_version": version}, indent=2
                    ).encode()
                self._outbox.append(Delivery(event["id"], event_type, payloads[version], target))
        return event

    def _targets(self, event_type: str, *, connect: bool) -> list[Target]:
        config = self.config
        targets = []
        if connect and config.forward_connect_url:
            targets.append(
                Target(config.forward_connect_url, config.connect_webhook_secret or "", "connect")
            )
        if not connect and config.forward_url:
            targets.append(Target(config.forward_url, config.webhook_secret or "", "platform"))
        for endpoint in self.store.iter_kind("webhook_endpoint", newest_first=False):
            if endpoint["status"] != "enabled" or bool(endpoint.get("_connect")) != connect:
                continue
            enabled = endpoint["enabled_events"]
            if "*" in enabled or event_type in enabled:
                targets.append(
                    Target(
                        endpoint["url"],
                        endpoint["_secret"],
                        endpoint["id"],
                        endpoint["api_version"],
                    )
                )
        return targets

    def _delivered(self, event_id: str) -> None:
        with self.lock:
            event = self.store.get(event_id, "event")
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1
                self.store.touch(event)
                self.store.flush()

    # --- accounts ------------------------------------------------------------------

    def default_currency(self, account: str | None) -> str:
        if account is None:
            return "usd"
        obj = self.store.get(account, "account")
        return (obj or {}).get("default_currency") or "usd"

    # --- operations for the browser pages and the control endpoints -----------------

    def three_d_secure_finish(self, intent_id: str, succeed: bool) -> dict:
        """Finish the 3-D Secure challenge of a PaymentIntent or SetupIntent.

        Raises :class:`StripeError` when the intent is not awaiting authentication.
        """
        from .resources import setup_intents, three_d_secure

        with self.mutation():
            ctx = self.ctx()
            if intent_id.startswith("seti_"):
                intent = setup_intents.finish_authentication(ctx, intent_id, succeed)
            else:
                intent = three_d_secure.finish_payment_intent(ctx, intent_id, succeed)
            return json.loads(json.dumps(public(intent)))

    def account_link_get(self, link_id: str) -> dict:
        from .resources import account_links

        with self.lock:
            return account_links.describe(self.ctx(), link_id)

    def onboarding_complete(self, link_id: str) -> str:
        """Complete hosted onboarding; returns the ``return_url``.

        Raises :class:`~stripe_sandbox.errors.LinkExpired` for a used or expired link.
        """
        from .resources import account_links

        with self.mutation():
            return account_links.complete(self.ctx(), link_id)

    def settle_balances(self, account: Any = ...) -> None:
        """Make pending funds available now (one account, or all)."""
        with self.mutation():
            self.ledger.settle(everything=True, account=account)

    def reset(self) -> None:
        """Forget everything: objects, idempotency keys, faults, deliveries."""
        with self.mutation():
            self.store.clear()
            self.ledger.rebuild()
            self.idempotency.clear()
            self.faults.clear()
            self.request_log.clear()
            self._outbox.clear()
            self.dispatcher.cancel_all()
            self.dispatcher.log.entries.clear()
            self.dispatcher.switches.duplicate = False
            self.dispatcher.switches.reorder = False
            self.clock.offset = 0.0
            self.config.payout_interval = self._initial_payout_interval
            config = self.config
            (
                config.available_after,
                config.account_link_ttl,
                config.forward_url,
                config.forward_connect_url,
                config.webhook_secret,
                config.connect_webhook_secret,
                self.latency_ms,
                self.dispatcher.retry_base,
                self.dispatcher.max_attempts,
            ) = self._initial


__all__ = ["Ctx", "Sandbox", "StripeError", "PLATFORM_ACCOUNT_ID", "APPLICATION_ID"]
