"""``create_app(config)``: the sandbox as a Starlette application.

Routes: ``/v1/...`` (the Stripe API), ``/_sandbox/...`` (control) and the
browser pages of :mod:`stripe_sandbox.browser` (Stripe.js, card element,
3-D Secure challenge, hosted onboarding) when that package is present.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from .config import SandboxConfig
from .sandbox import Sandbox
from .server import control, dispute_control
from .server.api import ApiApp

log = logging.getLogger("stripe_sandbox")
TICK_SECONDS = 0.1


def _browser_routes() -> list[BaseRoute]:
    try:
        from .browser import routes as browser_routes
    except ImportError as exc:
        # The browser pages are built separately; the API works without them.
        if "stripe_sandbox.browser" not in str(exc):
            raise
        log.info("stripe_sandbox.browser not available; serving the API only")
        return []
    return list(browser_routes.ROUTES)


def create_app(config: SandboxConfig | None = None) -> Starlette:
    """Build the app; its state object is ``app.state.sandbox``."""
    sandbox = Sandbox(config or SandboxConfig())
    api = ApiApp(sandbox)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await sandbox.dispatcher.start()
        ticker = asyncio.create_task(_tick(sandbox), name="balance-ticker")
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await sandbox.dispatcher.stop()
            with sandbox.lock:
                sandbox.store.flush()
                sandbox.store.close()

    routes: list[BaseRoute] = [
        Route("/v1/{path:path}", api, methods=["GET", "POST", "DELETE", "OPTIONS"]),
        *control.ROUTES,
        *dispute_control.ROUTES,
        *_browser_routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sandbox = sandbox
    return app


async def _tick(sandbox: Sandbox) -> None:
    """Make pending funds available when they fall due (``balance.available``)."""
    while True:
        await asyncio.sleep(TICK_SECONDS)
        try:
            sandbox.settle_due()
        except Exception:  # keep ticking whatever one pass did
            log.exception("balance settlement failed")
