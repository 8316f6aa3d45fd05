"""Runtime configuration of one sandbox instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit


@dataclass
class SandboxConfig:
    """Everything the command line (or a test) can set.

    ``available_after`` defaults to 0: funds of a charge are available at once,
    so the demo can pay out right away; tests that need the pending stage pass a
    positive delay (or freeze money with ``/_sandbox/clock``).
    """

    host: str = "127.0.0.1"
    port: int = 12111
    db_path: str | None = None
    forward_url: str | None = None
    forward_connect_url: str | None = None
    # Signing secrets: never logged, and kept out of repr().
    webhook_secret: str | None = field(default=None, repr=False)
    connect_webhook_secret: str | None = field(default=None, repr=False)
    available_after: float = 0.0
    # The payout schedule of accounts whose platform set none (`--payout-interval`):
    # daily, weekly, monthly or manual. Manual by default, so that tests moving the
    # clock keep their balances; the demo asks for daily, Stripe's default.
    payout_interval: str = "manual"
    latency_ms: int = 0
    # Webhook retries: delay before attempt n+1 is base * 2**(n-1) seconds.
    webhook_retry_base: float = 5.0
    webhook_max_attempts: int = 6
    webhook_timeout: float = 10.0
    # How long the reorder switch gathers deliveries before sending them backwards.
    reorder_window: float = 0.2
    account_link_ttl: int = 300
    # Public URL of this server as browsers see it (defaults to http://host:port).
    public_url: str | None = None
    # Idempotency results kept (oldest evicted first); Stripe keeps them 24 hours.
    idempotency_capacity: int = 50_000

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def redact(secret: str | None) -> str:
    """What the log may show of a secret: its prefix and last four characters."""
    if not secret:
        return "(none)"
    prefix, sep, rest = secret.partition("_")
    if not sep or len(rest) < 12:
        return "…" if len(secret) < 12 else f"…{secret[-4:]}"
    return f"{prefix}_…{rest[-4:]}"


def redact_url(url: str | None) -> str:
    """A URL for the log: credentials in it (``user:pass@host``) are hidden."""
    if not url:
        return "(none)"
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
