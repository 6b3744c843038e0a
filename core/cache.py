"""Django's Redis cache with connection pools shared by the whole process.

Django keeps one cache object per thread / async context, and the Redis backend one
connection pool per cache object. Under ASGI every request runs in a new context, so
every request built a new pool and opened a new TCP connection to Redis for its throttle
check (and left the old one for the garbage collector). Here all cache objects of a
process share one pool (and one thread-safe client) per server.
"""

import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

_clients: dict = {}
_lock = threading.Lock()


class RedisCacheClient(DjangoRedisCacheClient):
    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        shared = (self._servers[index], self._pool_class, repr(sorted(self._pool_options.items(), key=str)))
        client = _clients.get(shared)
        if client is None:
            with _lock:
                client = _clients.get(shared)
                if client is None:
                    pool = self._pool_class.from_url(self._servers[index], **self._pool_options)
                    client = _clients[shared] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def redis(self, key=None, *, write=False):
        """The redis-py client behind this cache (for atomic counters: core.throttling)."""
        return self._cache.get_client(key, write=write)
