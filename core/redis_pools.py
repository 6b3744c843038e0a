"""Every Redis connection a server process opens comes from one of these pools: each has a maximum,
a caller that finds all of a pool's connections busy waits for one (at most REDIS_POOL_TIMEOUT
seconds) instead of opening another, and every connection carries a name (`CLIENT SETNAME`) that
says whose it is.

Without a maximum, a burst (a thousand sockets pinging at once after a deploy's reconnect storm)
took a connection per concurrent command, and redis-py's pools keep every connection they ever
opened: one worker grew to hundreds, a fleet towards Redis's `maxclients` (issue 29).

REDIS_MAX_CONNECTIONS is what one process may hold, split between the pools (`pool_sizes`; the
figures are those of the default, 16):

- `registry` (5, per event loop): the socket registry (`messaging.socket.registry`): sockets opening
  and closing, the batched renewals, the process's beat, rate counts, presence, uploads, stats.
- `cache` (4, per process): Django's cache (`core.cache`): API rate limits, sign-in codes, `/health`.
- `publish` (4, per process): events published from request and database threads (`core.realtime`).
- `loop_publish` (1, per event loop): events published from the event loop, a batch at a time.
- `layer` (1, per event loop): the channel layer's commands (`core.channel_layer`), one at a time.
- `layer_subscriber` (1, per event loop): the channel layer's pub/sub connection, which carries every
  subscription of the process.

The three one-connection pools are used one command at a time, so one is all they can use; the rest
is split between the three others, `registry` first. A server worker runs one event loop (daphne's),
so its connections are at most REDIS_MAX_CONNECTIONS; a process running several loops (a test, a
command calling `async_to_sync` outside a server) has the per-loop pools once per loop.

When a wait times out, the caller gets `PoolExhausted`, a `redis.ConnectionError`: whatever already
handles Redis being unreachable handles it (`core.outages`; what each caller does is in
docs/operations.md), and the pool counts it for `/metrics`.
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import socket
import threading
import weakref
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

# Used one command at a time: one connection is all they can use.
SINGLE_CONNECTION_POOLS = ("loop_publish", "layer", "layer_subscriber")
# Share what is left, in this order for the remainder: sockets first (a connect storm), then requests.
SHARED_POOLS = ("registry", "cache", "publish")
MIN_CONNECTIONS = len(SINGLE_CONNECTION_POOLS) + len(SHARED_POOLS)


def pool_sizes(total: int) -> dict[str, int]:
    """Each pool's maximum when a process may hold `total` connections (at least MIN_CONNECTIONS)."""
    if total < MIN_CONNECTIONS:
        raise ValueError(f"REDIS_MAX_CONNECTIONS must be at least {MIN_CONNECTIONS} (one per pool), not {total}")
    rest = total - len(SINGLE_CONNECTION_POOLS)
    sizes = dict.fromkeys(SINGLE_CONNECTION_POOLS, 1)
    for index, name in enumerate(SHARED_POOLS):
        sizes[name] = rest // len(SHARED_POOLS) + (1 if index < rest % len(SHARED_POOLS) else 0)
    return sizes


def client_name(pool: str) -> str:
    """`<namespace>:<host>:<pid>:<pool>`, as `CLIENT LIST` shows it: which installation, machine,
    process and pool a connection belongs to (Redis allows no spaces or control characters)."""
    name = f"{settings.REDIS_NAMESPACE}:{socket.gethostname()}:{os.getpid()}:{pool}"
    return re.sub(r"[^!-~]", "_", name)


class PoolExhausted(redis.exceptions.ConnectionError):
    """No connection of the pool came free within REDIS_POOL_TIMEOUT seconds."""


def _exhausted(name: str, pool: Any) -> PoolExhausted:
    pool.timeouts += 1
    return PoolExhausted(
        f"no free connection in Redis pool {name!r} within {pool.timeout:g} s (all {pool.max_connections} in use)"
    )


class SyncPool(redis.BlockingConnectionPool):
    """A process-wide pool for threads (redis-py's blocking pool, named and counted)."""

    def __init__(self, *, pool_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]  # (redis-py's sync pool is untyped)
        self.pool_name = pool_name
        self.timeouts = 0

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]
        except redis.exceptions.ConnectionError as exc:
            if isinstance(exc.__context__, queue.Empty):  # redis-py's "No connection available."
                raise _exhausted(self.pool_name, self) from None
            raise

    def in_use(self) -> int:
        free = sum(1 for connection in list(self.pool.queue) if connection is not None)
        return len(self._connections) - free

    def open(self) -> int:
        return sum(1 for connection in list(self._connections) if connection._sock is not None)


class AsyncPool(aioredis.ConnectionPool):
    """A pool for one event loop's tasks, named and counted, whose callers wait their turn.

    Not redis-py's asyncio BlockingConnectionPool: a task woken there for a returned connection must
    take the pool's lock again, and a task arriving meanwhile takes the connection first; the woken
    one goes back to the end of the queue. Under a connect storm (a thousand registrations on five
    connections) a socket's renewal waited out its whole timeout that way. Here turns are an asyncio
    Semaphore, first come first served (no newcomer passes a waiter, Python >= 3.11.1)."""

    def __init__(self, *, pool_name: str, timeout: float, max_connections: int, **kwargs: Any) -> None:
        super().__init__(max_connections=max_connections, **kwargs)
        self.pool_name = pool_name
        self.timeout = timeout
        self.timeouts = 0
        self._turns = asyncio.Semaphore(max_connections)

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(self.timeout):
                await self._turns.acquire()
        except TimeoutError:
            raise _exhausted(self.pool_name, self) from None
        try:
            async with self._lock:
                connection = self.get_available_connection()  # type: ignore[no-untyped-call]
        except BaseException:
            self._turns.release()
            raise
        try:
            await self.ensure_connection(connection)
        except BaseException:
            await self.release(connection)
            raise
        return connection

    async def release(self, connection: Any) -> None:
        taken = connection in self._in_use_connections
        try:
            await super().release(connection)
        finally:
            if taken:
                self._turns.release()

    def in_use(self) -> int:
        return len(self._in_use_connections)

    def open(self) -> int:
        connections = [*self._available_connections, *self._in_use_connections]
        return sum(1 for connection in connections if connection.is_connected)


_pools: list[weakref.ref[SyncPool | AsyncPool]] = []
_pools_lock = threading.Lock()


def _options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    return {
        **options,
        "pool_name": name,
        "max_connections": pool_sizes(settings.REDIS_MAX_CONNECTIONS)[name],
        "timeout": settings.REDIS_POOL_TIMEOUT,
        "client_name": client_name(name),
    }


def _register(pool: SyncPool | AsyncPool) -> None:
    with _pools_lock:
        _pools[:] = [ref for ref in _pools if ref() is not None]
        _pools.append(weakref.ref(pool))


def sync_pool(name: str, url: str, **options: Any) -> SyncPool:
    """A new pool `name` for threads (its owner keeps one per process); `options` as redis-py's."""
    pool = SyncPool.from_url(url, **_options(name, options))
    _register(pool)
    return pool


def async_pool(name: str, url: str, **options: Any) -> AsyncPool:
    """A new pool `name` for the running event loop (its owner keeps one per loop)."""
    pool = AsyncPool.from_url(url, **_options(name, options))
    _register(pool)
    return pool


def pools() -> list[SyncPool | AsyncPool]:
    return [pool for ref in list(_pools) if (pool := ref()) is not None]


class PoolCollector(Collector):
    """This process's Redis connections per pool, for `/metrics` (summed over event loops)."""

    def collect(self) -> Any:
        in_use = GaugeMetricFamily(
            "crm_redis_connections_in_use", "Redis connections in use by this process", labels=["pool"]
        )
        opened = GaugeMetricFamily(
            "crm_redis_connections_open", "Redis connections this process holds open", labels=["pool"]
        )
        ceiling = GaugeMetricFamily(
            "crm_redis_connections_max", "most Redis connections a pool of this process may open", labels=["pool"]
        )
        waits = CounterMetricFamily(
            "crm_redis_pool_timeouts",
            "callers that found no free Redis connection within REDIS_POOL_TIMEOUT",
            labels=["pool"],
        )
        sizes = pool_sizes(settings.REDIS_MAX_CONNECTIONS)
        figures = {name: [0, 0, 0] for name in sizes}
        for pool in pools():
            figure = figures.setdefault(pool.pool_name, [0, 0, 0])
            figure[0] += pool.in_use()
            figure[1] += pool.open()
            figure[2] += pool.timeouts
        for name, (used, held, timeouts) in sorted(figures.items()):
            in_use.add_metric([name], used)
            opened.add_metric([name], held)
            ceiling.add_metric([name], sizes.get(name, 0))
            waits.add_metric([name], timeouts)
        return [in_use, opened, ceiling, waits]
