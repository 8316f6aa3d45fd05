"""The Redis cache, for a shop that keeps working while Redis is away.

The cache only holds what can be lost (rate-limit counters, the last reconcile
count, the dispatcher's heartbeat): with Redis gone, a read finds nothing and a
write is dropped, logged at most once a minute, instead of a 500 on the page that
asked (the checkout's done page, an API throttle).
"""

import logging
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_last_warning = 0.0


def _warn(operation: str, exc: Exception) -> None:
    global _last_warning
    if time.monotonic() - _last_warning > 60:
        _last_warning = time.monotonic()
        logger.warning("Cache unreachable (%s): %s; carrying on without it", operation, exc)


class ResilientRedisCache(RedisCache):
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNREACHABLE as exc:
            _warn("get", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict:
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as exc:
            _warn("get_many", exc)
            return {}

    def add(self, key: Any, value: Any, timeout: Any = 300, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE as exc:
            _warn("add", exc)
            return False  # "someone else holds it": the caller does the cautious thing

    def set(self, key: Any, value: Any, timeout: Any = 300, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE as exc:
            _warn("set", exc)

    def set_many(self, data: dict, timeout: Any = 300, version: int | None = None) -> list:
        try:
            return super().set_many(data, timeout, version)
        except UNREACHABLE as exc:
            _warn("set_many", exc)
            return list(data)

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except UNREACHABLE as exc:
            _warn("delete", exc)
            return False

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE as exc:
            _warn("incr", exc)
            raise ValueError(f"Key '{key}' not found (cache unreachable)") from exc

    def clear(self) -> None:
        """Delete this cache's keys only. Django's clear() is FLUSHDB, which would also
        wipe whoever else shares the Redis database under another KEY_PREFIX (the demo
        while a test run clears between tests, a parallel test worker)."""
        if not self.key_prefix:
            super().clear()
            return
        try:
            client = self._cache.get_client(None, write=True)  # type: ignore[attr-defined]
            batch = []
            for key in client.scan_iter(match=f"{self.key_prefix}:*", count=500):
                batch.append(key)
                if len(batch) >= 500:
                    client.delete(*batch)
                    batch = []
            if batch:
                client.delete(*batch)
        except UNREACHABLE as exc:
            _warn("clear", exc)
