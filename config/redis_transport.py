"""kombu's Redis transport, publishing through one client per channel.

kombu builds a new `redis.Redis` object for every message it publishes (its
`conn_or_acquire`); with redis-py 8 that constructor registers some 170 response
callbacks, about a fifth of the web process's cost of a Celery publish (see
bench/README.md). The client is only a front for the channel's connection pool,
which is thread-safe, so one serves every publish of the channel.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from kombu.transport import redis


class Channel(redis.Channel):
    _shared_client = None

    @contextmanager
    def conn_or_acquire(self, client=None) -> Iterator:
        if client:
            yield client
            return
        shared = self._shared_client
        if shared is None or shared.connection_pool is not self.pool:  # new pool: reconnected
            shared = self._shared_client = self._create_client()
        yield shared


class Transport(redis.Transport):
    Channel = Channel
