"""Django's Redis cache with connection pools shared by the whole process.

Django keeps one cache object per thread / async context, and the Redis backend one
connection pool per cache object. Under ASGI every request runs in a new context, so
every request built a new pool and opened a new TCP connection to Redis for its throttle
check (and left the old one for the garbage collector). Here all cache objects of a
process share one pool (and one thread-safe client) per server: `core.redis_pools`' `cache` pool,
with its maximum and its wait for a free connection (Django's `pool_class` option is not used).
"""

import threading
from typing import TYPE_CHECKING, Any

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

from core import redis_pools

_clients: dict[tuple[str, str], redis.Redis] = {}
_lock = threading.Lock()


class RedisCacheClient(DjangoRedisCacheClient):
    # Django's own attributes that this reads (django-stubs leaves the private ones out)
    _servers: list[str]
    _pool_options: dict[str, Any]
    _client: type[redis.Redis]
    if TYPE_CHECKING:

        def _get_connection_pool_index(self, write: bool) -> int: ...

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        index = self._get_connection_pool_index(write)
        shared = (self._servers[index], repr(sorted(self._pool_options.items(), key=str)))
        client = _clients.get(shared)
        if client is None:
            with _lock:
                client = _clients.get(shared)
                if client is None:
                    pool = redis_pools.sync_pool("cache", self._servers[index], **self._pool_options)
                    client = _clients[shared] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    _cache: RedisCacheClient  # Django's cached property (its client class is `_class`)

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def redis(self, key: str | None = None, *, write: bool = False) -> redis.Redis:
        """The redis-py client behind this cache (for atomic counters: core.throttling)."""
        return self._cache.get_client(key, write=write)
