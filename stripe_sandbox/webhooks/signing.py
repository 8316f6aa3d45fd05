"""``Stripe-Signature`` headers that `stripe.Webhook.construct_event` accepts."""

from __future__ import annotations

import hashlib
import hmac


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """``t=<timestamp>,v1=<hex HMAC-SHA256 of "timestamp.payload">``."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
