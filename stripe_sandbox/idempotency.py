"""Stored results of idempotent requests, as Stripe keeps them.

The key is scoped by API key, ``Stripe-Account`` and ``Idempotency-Key``. A
replay of the same method, path and parameters returns the stored response; the
same key with anything else is a 400 ``idempotency_error``. As Stripe documents
(docs.stripe.com/api/idempotent_requests): a result is saved once the endpoint
has started executing, whatever it is - a success, a 402 decline, a 400 state
error, *and a 500*; a request refused before that (validation, a 429) is not
saved. Keys are kept 24 hours (on the sandbox clock, so tests can fast-forward
past them); a key reused after that runs again. Oldest entries are also
evicted past the capacity, to bound memory.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import asdict, dataclass

from .store import Store

BLOB_PREFIX = "idempotency:"
# Stripe prunes keys once they are at least 24 hours old.
TTL_SECONDS = 24 * 3600


@dataclass
class StoredResponse:
    fingerprint: str
    status: int
    body: str
    request_id: str
    # Sandbox clock time the result was saved; entries from before this field
    # existed load as 0 and have expired.
    stored_at: float = 0.0


class IdempotencyCache:
    def __init__(self, store: Store, capacity: int, ttl: float = TTL_SECONDS) -> None:
        self.store = store
        self.capacity = capacity
        self.ttl = ttl
        self.entries: OrderedDict[str, StoredResponse] = OrderedDict()
        for key, blob in store.blobs.items():
            if key.startswith(BLOB_PREFIX):
                self.entries[key[len(BLOB_PREFIX) :]] = StoredResponse(**json.loads(blob))

    @staticmethod
    def scope_key(api_key: str, account: str | None, key: str) -> str:
        return f"{api_key}|{account or ''}|{key}"

    def get(self, scope_key: str, now: float) -> StoredResponse | None:
        """The stored result for this key, unless it is older than the TTL."""
        entry = self.entries.get(scope_key)
        if entry is not None and now - entry.stored_at >= self.ttl:
            del self.entries[scope_key]
            return None
        return entry

    def put(self, scope_key: str, response: StoredResponse) -> None:
        self.entries[scope_key] = response
        self.entries.move_to_end(scope_key)
        if self.store._db is not None:  # noqa: SLF001 - only persist when a file backs the store
            self.store.put_blob(BLOB_PREFIX + scope_key, json.dumps(asdict(response)).encode())
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)

    def clear(self) -> None:
        self.entries.clear()
