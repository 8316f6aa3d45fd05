"""In-memory object store, optionally written through to SQLite.

Objects are kept in their Stripe wire shape (plain dicts). Keys starting with
``_`` are the sandbox's private bookkeeping (owning account, test-card
behaviour, …) and are stripped when an object is rendered. ``_account`` is the
scope an object lives in: ``None`` for the platform, ``acct_…`` for a
connected account; a request only sees objects of its own scope.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from typing import Any

Obj = dict[str, Any]


class Store:
    """All objects by id, plus creation order per object type."""

    def __init__(self, db_path: str | None = None) -> None:
        self.objects: dict[str, Obj] = {}
        self.order: dict[str, list[str]] = {}
        self.blobs: dict[str, bytes] = {}
        self.meta: dict[str, Any] = {}
        self._dirty: set[str] = set()
        self._dirty_blobs: set[str] = set()
        self._db = _Database(db_path) if db_path else None
        if self._db:
            self._db.load(self)

    # --- reads -------------------------------------------------------------

    def get(self, object_id: str, kind: str | None = None) -> Obj | None:
        obj = self.objects.get(object_id)
        if obj is None or (kind is not None and obj["object"] != kind):
            return None
        return obj

    def iter_kind(self, kind: str, *, newest_first: bool = True) -> Iterator[Obj]:
        ids = self.order.get(kind, [])
        for object_id in reversed(ids) if newest_first else ids:
            obj = self.objects.get(object_id)
            if obj is not None:
                yield obj

    def select(
        self, kind: str, scope: str | None, where: Callable[[Obj], bool] | None = None
    ) -> list[Obj]:
        """Objects of ``kind`` in ``scope``, newest first."""
        return [
            obj
            for obj in self.iter_kind(kind)
            if obj.get("_account") == scope and (where is None or where(obj))
        ]

    # --- writes ------------------------------------------------------------

    def add(self, obj: Obj, scope: str | None = None) -> Obj:
        obj["_account"] = scope
        self.objects[obj["id"]] = obj
        self.order.setdefault(obj["object"], []).append(obj["id"])
        self._dirty.add(obj["id"])
        return obj

    def touch(self, *objects: Obj) -> None:
        """Mark changed objects for persistence."""
        for obj in objects:
            self._dirty.add(obj["id"])

    def remove(self, object_id: str) -> None:
        obj = self.objects.pop(object_id, None)
        if obj is not None:
            self.order[obj["object"]].remove(object_id)
            self._dirty.add(object_id)

    def put_blob(self, key: str, data: bytes) -> None:
        self.blobs[key] = data
        self._dirty_blobs.add(key)

    def set_meta(self, key: str, value: Any) -> None:
        self.meta[key] = value
        self._dirty.add(f"meta:{key}")

    def flush(self) -> None:
        """Write changed objects to SQLite (no-op in memory mode)."""
        if self._db and (self._dirty or self._dirty_blobs):
            self._db.save(self, self._dirty, self._dirty_blobs)
        self._dirty.clear()
        self._dirty_blobs.clear()

    def clear(self) -> None:
        self.objects.clear()
        self.order.clear()
        self.blobs.clear()
        self.meta.clear()
        self._dirty.clear()
        self._dirty_blobs.clear()
        if self._db:
            self._db.wipe()

    def close(self) -> None:
        if self._db:
            self._db.close()


class _Database:
    """SQLite persistence: one row per object, rewritten whenever it changes."""

    def __init__(self, path: str) -> None:
        # The store is only touched under the sandbox lock, from any thread.
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS objects (
                id TEXT PRIMARY KEY, seq INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, data BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """
        )
        row = self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM objects").fetchone()
        self.seq = row[0]

    def load(self, store: Store) -> None:
        for body, kind in self.conn.execute("SELECT body, kind FROM objects ORDER BY seq"):
            obj = json.loads(body)
            store.objects[obj["id"]] = obj
            store.order.setdefault(kind, []).append(obj["id"])
        for key, data in self.conn.execute("SELECT key, data FROM blobs"):
            store.blobs[key] = bytes(data)
        for key, value in self.conn.execute("SELECT key, value FROM meta"):
            store.meta[key] = json.loads(value)

    def save(self, store: Store, ids: Iterable[str], blob_keys: Iterable[str]) -> None:
        cur = self.conn.cursor()
        cur.execute("BEGIN")
        for object_id in ids:
            if object_id.startswith("meta:"):
                key = object_id[5:]
                cur.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    (key, json.dumps(store.meta.get(key))),
                )
                continue
            obj = store.objects.get(object_id)
            if obj is None:
                cur.execute("DELETE FROM objects WHERE id = ?", (object_id,))
                continue
            body = json.dumps(obj, separators=(",", ":"))
            updated = cur.execute(
                "UPDATE objects SET body = ? WHERE id = ?", (body, object_id)
            ).rowcount
            if not updated:
                self.seq += 1
                cur.execute(
                    "INSERT INTO objects (id, seq, kind, body) VALUES (?, ?, ?, ?)",
                    (object_id, self.seq, obj["object"], body),
                )
        for key in blob_keys:
            cur.execute(
                "INSERT OR REPLACE INTO blobs (key, data) VALUES (?, ?)", (key, store.blobs[key])
            )
        cur.execute("COMMIT")

    def wipe(self) -> None:
        self.conn.executescript("DELETE FROM objects; DELETE FROM blobs; DELETE FROM meta;")

    def close(self) -> None:
        self.conn.close()
