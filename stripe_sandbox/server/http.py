"""Small ASGI helpers: reading requests and writing JSON answers (with CORS
headers only when the caller says the answer may be read cross-origin)."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Receive, Send

# Only for what the test Stripe.js does with a publishable key (see api.py):
# every other answer carries no Access-Control-* header, so a page on another
# origin cannot read it.
CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (
        b"access-control-expose-headers",
        b"Request-Id, Idempotency-Key, Idempotent-Replayed, Stripe-Version",
    ),
]
# Sent in addition to CORS_HEADERS when a preflight is allowed.
PREFLIGHT_HEADERS = [
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (
        b"access-control-allow-headers",
        b"Authorization, Content-Type, Stripe-Account, Stripe-Version, Idempotency-Key",
    ),
    (b"access-control-max-age", b"300"),
]
MAX_BODY = 17 * 1024 * 1024


class BodyTooLarge(Exception):
    pass


async def read_body(receive: Receive, limit: int = MAX_BODY) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


async def send_bytes(
    send: Send,
    status: int,
    payload: bytes,
    headers: list[tuple[bytes, bytes]],
    content_type: bytes = b"application/json",
    *,
    cors: bool = False,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(payload)).encode()),
                (b"cache-control", b"no-cache, no-store"),
                *(CORS_HEADERS if cors else ()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def drop_connection(send: Send) -> None:
    """Start an answer and stop half-way: the client sees the connection die."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"', "more_body": True})
    raise ConnectionAbortedError("sandbox fault: dropped connection")
