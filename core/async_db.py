"""PostgreSQL from the event loop, for the few statements of the socket's hot path.

The ORM is sync, so a socket's database work runs on a thread (`core.db.in_db_thread`).
For a send that hand-off cost more than the statement: a queue put and a future each way, and
the worker thread waiting for the GIL (up to 5 ms, Python's switch interval) every time it came
back from PostgreSQL while the loop was busy with other sockets; under load that made the tail
(docs/performance.md). Statements that are worth it run here instead, awaited on the loop, on a
psycopg `AsyncConnectionPool` of this process (one per event loop; a server process runs one).

The pool connects with Django's own connection settings (the same database, user and options,
the test database under pytest) in autocommit: each statement is its own transaction. It counts
against PostgreSQL's connections like Django's pool: at most DB_POOL_MAX_SIZE per process more.
Outages follow `core.outages`: while PostgreSQL is known to be down a call fails at once, a
failed connection attempt declares it down, and a connection that broke (a server restart) is
dropped by a cheap check on checkout (a poll; a query only if the server sent something).
"""

from __future__ import annotations

from typing import Any, Self

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg_pool import AsyncConnectionPool

from core.db import ONLY_WHEN_ASKED
from core.loops import PerLoop
from core.outages import database
from core.postgresql.base import has_input


class _PoolConnection(psycopg.AsyncConnection[Any]):
    """A failed connection attempt (the pool's own, in the background) marks PostgreSQL down."""

    kept_cursor: psycopg.AsyncCursor[Any] | None = None  # see `cursor()`

    @classmethod
    async def connect(cls, *args: Any, **kwargs: Any) -> Self:
        try:
            return await super().connect(*args, **kwargs)
        except psycopg.OperationalError as exc:
            database().went_down("socket pool connect", exc)
            raise


async def _check(connection: psycopg.AsyncConnection[Any]) -> None:
    """Raise when a connection taken from the pool is dead. An idle connection has nothing to
    read unless the server told it something (a restart, an idle timeout): only then is it asked."""
    if has_input(connection):
        await AsyncConnectionPool.check_connection(connection)


def _connection_kwargs() -> dict[str, Any]:
    params = connections[DEFAULT_DB_ALIAS].get_connection_params()
    params.pop("cursor_factory", None)  # Django's sync cursor classes
    params.pop("context", None)  # Django's adapters: plain psycopg types are what the hot path sends
    params["prepare_threshold"] = ONLY_WHEN_ASKED  # prepared only where asked (`execute(..., prepare=True)`)
    params["autocommit"] = True
    return params


def _new_pool() -> AsyncConnectionPool[_PoolConnection]:
    """Opened by its first `cursor()` (opening needs the running loop)."""
    options = settings.DATABASES[DEFAULT_DB_ALIAS].get("OPTIONS", {}).get("pool") or {}
    return AsyncConnectionPool(
        kwargs=_connection_kwargs(),
        connection_class=_PoolConnection,
        check=_check,
        open=False,
        min_size=options.get("min_size", 1),
        max_size=options.get("max_size", 10),
        timeout=settings.DB_CONNECT_TIMEOUT,
        name="event-loop",
    )


def _discard(pool: AsyncConnectionPool[_PoolConnection]) -> None:
    """Close the idle connections of a pool whose event loop closed without closing it (each test
    runs its own loop): an async close cannot run any more, and the connections would stay open on
    the server until the process ends. Reaches into the pool's deque of idle connections."""
    for conn in list(pool._pool):
        conn.pgconn.finish()
    pool._pool.clear()


_pools = PerLoop(_new_pool, discard=_discard)


class cursor:
    """`async with cursor() as cur:` the cursor of a pooled connection of this event loop, in
    autocommit; the connection goes back to the pool when the block ends.

    The cursor is kept with its connection and reused. A new cursor makes new adapters for its
    statement (psycopg's Transformer, with its dumpers and loaders), which reference each other:
    each send left ~30 objects in reference cycles for the garbage collector, whose passes paused
    every socket of the process (docs/performance.md). A kept cursor keeps them while it runs the
    same query object again. (A class, not @asynccontextmanager: this runs on every send.)"""

    async def __aenter__(self) -> psycopg.AsyncCursor[Any]:
        if database().down:  # the sync side probes, once a second, and says when it is back
            raise psycopg.OperationalError("PostgreSQL is unreachable (known down)")
        self.pool = pool = _pools.get()
        if pool.closed:  # its first use on this loop (open() twice at once is safe)
            await pool.open(wait=False)
        self.conn = conn = await self.pool.getconn()
        kept = conn.kept_cursor
        if kept is None:
            kept = conn.kept_cursor = conn.cursor()
        return kept

    async def __aexit__(self, *exc_info: object) -> None:
        await self.pool.putconn(self.conn)


def discard_closed() -> None:
    """Close the connections of every pool whose event loop has closed (the end of a test run)."""
    _pools.drop_closed()
