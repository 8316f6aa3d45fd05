"""An offline, stateful, Stripe-compatible HTTP server (see ``python -m stripe_sandbox``)."""

from __future__ import annotations

from .config import SandboxConfig

__all__ = ["SandboxConfig", "create_app"]


def create_app(config: SandboxConfig | None = None):  # noqa: ANN201 - re-export
    from .app import create_app as _create_app

    return _create_app(config)
