"""Build and sign webhook deliveries the way Stripe does (t=…,v1=HMAC-SHA256)."""

import hashlib
import hmac
import itertools
import json
import time

_ids = itertools.count(1)


def event(event_type: str, obj: dict, *, account: str | None = None, event_id=None) -> dict:
    data = {
        "id": event_id or f"evt_test_{next(_ids)}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "api_version": "2026-10-28.endive",
        "data": {"object": obj},
    }
    if account:
        data["account"] = account
    return data


def signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def post_event(client, url: str, body: dict, secret: str, timestamp: int | None = None):
    return post_signed(client, url, json.dumps(body).encode(), secret, timestamp)


def post_signed(client, url: str, payload: bytes, secret: str, timestamp: int | None = None):
    """POST `payload` exactly as given, signed with `secret`."""
    return client.post(
        url,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature(payload, secret, timestamp),
    )
