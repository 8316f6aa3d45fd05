"""Stored results of idempotent requests.

The key is scoped by API key, ``Stripe-Account`` and ``Idempotency-Key``. A
replay of the same method, path and parameters returns the stored response; the
same key with anything else is a 400 ``idempotency_error``. Only requests that
reached their handler are stored (validation errors and injected faults are
not), as Stripe documents. Oldest entries are evicted past the capacity.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import asdict, dataclass

from .store import Store

BLOB_PREFIX = "idempotency:"


@dataclass
class StoredResponse:
    fingerprint: str
    status: int
    body: str
    request_id: str


class IdempotencyCache:
    def __init__(self, store: Store, capacity: int) -> None:
        self.store = store
        self.capacity = capacity
        self.entries: OrderedDict[str, StoredResponse] = OrderedDict()
        for key, blob in store.blobs.items():
            if key.startswith(BLOB_PREFIX):
                self.entries[key[len(BLOB_PREFIX) :]] = StoredResponse(**json.loads(blob))

    @staticmethod
    def scope_key(api_key: str, account: str | None, key: str) -> str:
        return f"{api_key}|{account or ''}|{key}"

    def get(self, scope_key: str) -> StoredResponse | None:
        return self.entries.get(scope_key)

    def put(self, scope_key: str, response: StoredResponse) -> None:
        self.entries[scope_key] = response
        if self.store._db is not None:  # noqa: SLF001 - only persist when a file backs the store
            self.store.put_blob(BLOB_PREFIX + scope_key, json.dumps(asdict(response)).encode())
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)

    def clear(self) -> None:
        self.entries.clear()
