"""With Redis away, the cache is a miss, never a 500 (core/cache.py)."""

import socket

import pytest

from core.cache import ResilientRedisCache


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket closes


@pytest.fixture
def cache_without_redis():
    return ResilientRedisCache(
        f"redis://127.0.0.1:{closed_port()}/0",
        {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}},
    )


def test_reads_miss_and_writes_are_dropped(cache_without_redis, caplog, monkeypatch):
    monkeypatch.setattr("core.cache._last_warning", 0.0)  # warned at most once a minute
    cache = cache_without_redis
    assert cache.get("k", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.add("k", 1) is False  # "someone else holds it": the cautious answer
    cache.set("k", 1)  # dropped, no exception
    assert cache.delete("k") is False
    with pytest.raises(ValueError, match="not found"):
        cache.incr("k")  # as for a missing key, which callers already handle
    assert "Cache unreachable" in caplog.text


def test_clear_deletes_only_this_caches_keys():
    """A test run clearing its cache between tests leaves the demo's keys alone."""
    import os

    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/1"
    try:
        redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            raise
        pytest.skip("no Redis to clear")
    ours = ResilientRedisCache(url, {"KEY_PREFIX": f"ours-{os.getpid()}"})
    theirs = ResilientRedisCache(url, {"KEY_PREFIX": f"theirs-{os.getpid()}"})
    ours.set("k", 1)
    theirs.set("k", 2)
    ours.clear()
    assert ours.get("k") is None
    assert theirs.get("k") == 2
    theirs.clear()
    assert theirs.get("k") is None
