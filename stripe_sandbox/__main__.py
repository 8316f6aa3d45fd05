"""``python -m stripe_sandbox --host 127.0.0.1 --port 12111 [...]``."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from .app import create_app
from .config import SandboxConfig, redact, redact_url
from .payout_schedule import INTERVALS


def parse_args(argv: list[str] | None = None) -> SandboxConfig:
    parser = argparse.ArgumentParser(
        prog="python -m stripe_sandbox", description="Offline Stripe-compatible API server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--db", dest="db_path", help="SQLite file to keep state across restarts")
    parser.add_argument("--forward", dest="forward_url", help="platform webhook URL")
    parser.add_argument("--forward-connect", dest="forward_connect_url", help="Connect webhook URL")
    parser.add_argument("--webhook-secret", help="signing secret for --forward")
    parser.add_argument("--connect-webhook-secret", help="signing secret for --forward-connect")
    parser.add_argument(
        "--available-after",
        type=float,
        default=0.0,
        help="seconds before charged funds become available (default 0)",
    )
    parser.add_argument(
        "--payout-interval",
        choices=INTERVALS,
        default="manual",
        help="payout schedule of connected accounts that set none: paid out automatically "
        "at midnight UTC on the sandbox clock (default manual: never)",
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every /v1 call")
    parser.add_argument(
        "--webhook-retry-base",
        type=float,
        default=5.0,
        help="first webhook retry delay in seconds, doubled each attempt",
    )
    parser.add_argument("--webhook-max-attempts", type=int, default=6)
    parser.add_argument("--public-url", help="base URL browsers use (default http://host:port)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    config = SandboxConfig(
        host=args.host,
        port=args.port,
        db_path=args.db_path,
        forward_url=args.forward_url,
        forward_connect_url=args.forward_connect_url,
        webhook_secret=args.webhook_secret,
        connect_webhook_secret=args.connect_webhook_secret,
        available_after=args.available_after,
        payout_interval=args.payout_interval,
        latency_ms=args.latency_ms,
        webhook_retry_base=args.webhook_retry_base,
        webhook_max_attempts=args.webhook_max_attempts,
        public_url=args.public_url,
    )
    config.log_level = args.log_level  # type: ignore[attr-defined]
    return config


class _Server(uvicorn.Server):
    """Announces the base URL once the socket is really listening."""

    def __init__(self, config: uvicorn.Config, announce: str) -> None:
        super().__init__(config)
        self.announce = announce

    async def startup(self, sockets=None) -> None:  # noqa: ANN001 - uvicorn's signature
        await super().startup(sockets)
        if self.started:
            print(self.announce, flush=True)


def announcement(config: SandboxConfig) -> str:
    """The start-up lines: where webhooks go, with their signing secrets redacted.

    Logs end up in files, CI output and screenshots; the full secrets are what
    you passed with ``--webhook-secret``/``--connect-webhook-secret`` (or, when
    generated, ``GET /_sandbox/webhooks``).
    """
    lines = [f"stripe_sandbox listening on {config.base_url}"]
    if config.forward_url:
        lines.append(
            f"  platform webhooks -> {redact_url(config.forward_url)} "
            f"(secret {redact(config.webhook_secret)})"
        )
    if config.forward_connect_url:
        lines.append(
            f"  connect webhooks  -> {redact_url(config.forward_connect_url)} "
            f"(secret {redact(config.connect_webhook_secret)})"
        )
    if config.forward_url or config.forward_connect_url:
        lines.append(f"  full signing secrets: GET {config.base_url}/_sandbox/webhooks")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    level = getattr(config, "log_level", "warning")
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(name)s %(message)s")
    app = create_app(config)  # fills in generated secrets
    server = _Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level=level,
            access_log=False,
            lifespan="on",
        ),
        announcement(app.state.sandbox.config),
    )
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
