"""Small ASGI helpers: reading requests and writing JSON answers with CORS."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Receive, Send

CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (
        b"access-control-expose-headers",
        b"Request-Id, Idempotency-Key, Idempotent-Replayed, Stripe-Version",
    ),
]
# Sent in addition to CORS_HEADERS (which every answer carries exactly once).
PREFLIGHT_HEADERS = [
    (b"access-control-allow-methods", b"GET, POST, DELETE, OPTIONS"),
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
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(payload)).encode()),
                (b"cache-control", b"no-cache, no-store"),
                *CORS_HEADERS,
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
