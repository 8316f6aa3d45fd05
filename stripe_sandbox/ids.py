"""Stripe-looking identifiers and secrets."""

from __future__ import annotations

import random
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
# Ids only need to be unique and look like Stripe's, not to be unguessable, and
# random.choices is several times faster than `secrets` on the benchmark path.
_rng = random.Random(secrets.randbits(128))


def new_id(prefix: str, length: int = 24) -> str:
    """``pi_1Xy…``: prefix, underscore, a '1' and random base62 like Stripe's ids."""
    return f"{prefix}_1{''.join(_rng.choices(_ALPHABET, k=length - 1))}"


def secret_token(length: int = 32) -> str:
    """Random base62 for values that grant access (client secrets, signing secrets)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def client_secret(object_id: str) -> str:
    return f"{object_id}_secret_{secret_token(25)}"


def webhook_secret() -> str:
    return f"whsec_{secret_token(32)}"
