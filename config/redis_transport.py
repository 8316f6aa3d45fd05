"""kombu's Redis transport, publishing through one client per channel.

kombu builds a new `redis.Redis` object for every message it publishes (its
`conn_or_acquire`); with redis-py 8 that constructor registers some 170 response
callbacks, about a fifth of the web process's cost of a Celery publish (see
bench/README.md). The client is only a front for the channel's connection pool,
which is thread-safe, so one serves every publish of the channel.

It also keeps a worker alive through a broker outage (tests/test_broker.py). When
Redis goes away, Celery's consumer collects, then closes, the connection, ignoring
connection errors only. In `collect()` the task channel's close fails (its pending
BRPOP cannot be read), so does the gossip channel's, and the transport is detached
(`transport.client = None`) with the task channel still open. `close()` then closes
it again: it drops its connection pool, restores its unacknowledged messages, and
kombu's lazy `pool` property rebuilds a pool from `transport.client.hostname`: an
AttributeError that stopped the worker ("Unrecoverable error"). A task that finishes
later is acknowledged on that closed channel, the same path. Here a channel without
a transport keeps its last pool (whose parameters outlive the transport), so the
restore or the ack reaches Redis if it is back and fails as a connection error if it
is not; a channel that never had a pool raises a connection error.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from kombu.transport import redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(redis.Channel):
    _shared_client = None

    @contextmanager
    def conn_or_acquire(self, client=None) -> Iterator:
        if client:
            yield client
            return
        yield self._sync_client()

    def _sync_client(self):
        shared = self._shared_client
        transport = self.connection
        if self._pool is None and (transport is None or transport.client is None):
            # Closed, or the connection was collected: no parameters to build a pool from.
            if shared is None:
                raise RedisConnectionError("Redis channel is closed")
            return shared
        pool = self.pool
        if shared is None or shared.connection_pool is not pool:  # new pool: reconnected
            shared = self._shared_client = self._create_client()
        return shared


class Transport(redis.Transport):
    Channel = Channel
