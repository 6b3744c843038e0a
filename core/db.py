"""Prepared statements for the hottest reads.

Django leaves psycopg's prepared statements off (they break behind transaction-pooling
pgbouncers) and binds parameters on the client, so PostgreSQL parses and plans every
statement again: 0.4 ms of its CPU for the history page's query, three times the time
it takes to run. `prepared_cursor()` gives a Django cursor (logged and counted like any
other) whose statements are bound on the server and prepared once per pooled connection.
We connect to PostgreSQL directly through psycopg_pool; a transaction-pooling pgbouncer in
front would need `max_prepared_statements` (pgbouncer >= 1.21).
"""

from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ParamSpec, Self, TypeVar
from weakref import WeakSet

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections
from django.db.backends.utils import CursorWrapper
from psycopg.pq import TransactionStatus

if TYPE_CHECKING:  # django-stubs 5.2 lacks it: Django's psycopg cursor that binds on the server
    ServerBindingCursor = psycopg.Cursor[Any]
else:
    from django.db.backends.postgresql.base import ServerBindingCursor

BIGINT_MAX = 2**63 - 1  # ids are PostgreSQL bigints: a larger number names no row, and the server refuses it

# psycopg prepares nothing while a connection's threshold is None (Django's default), even when
# asked; a threshold no statement reaches prepares only what asks (Django's own cursors bind on
# the client and never prepare).
ONLY_WHEN_ASKED = 2**31

# Connections told to plan prepared statements once (see `_plan_once`).
_generic_plans: WeakSet[psycopg.Connection[Any]] = WeakSet()


class PreparedCursor(ServerBindingCursor):
    """Prepared (on pooled connections), and results in PostgreSQL's binary format: a
    timestamp arrives as an integer instead of text to parse (half the page's decoding time).
    Timestamps come back aware, in the connection's time zone (UTC), as Django's own loader
    gives them."""

    prepare = True

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> Self:
        return super().execute(
            query,
            params,
            prepare=self.prepare if prepare is None else prepare,
            binary=True if binary is None else binary,
        )


def _plan_once(raw: psycopg.Connection[Any]) -> None:
    """A prepared statement is planned once and that plan kept: `plan_cache_mode =
    force_generic_plan` on this connection, set the first time it prepares. Under PostgreSQL's
    default (`auto`) the history page's statement was planned again on every run (its generic
    plan, for an unknown LIMIT, looks dearer than the custom ones), which is the cost preparing
    removes. Set here, not for every connection (settings): a connection that never prepares
    keeps `auto`. On one that does, the setting also holds for the rest of its session, which
    changes nothing else: Django's statements are bound on the client (no parameters, so one plan
    either way), and PL/pgSQL functions (`messaging_message_store`) have generic plans for their
    primary-key statements after five calls anyway. Set outside a transaction only, so a rollback
    cannot undo it behind our back (inside one, the statement runs with `auto` this time)."""
    if raw in _generic_plans or raw.info.transaction_status != TransactionStatus.IDLE:
        return
    raw.execute("SET plan_cache_mode = force_generic_plan")
    _generic_plans.add(raw)


def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> CursorWrapper:
    connection = connections[using]
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    # Without a pool each request has a new connection: preparing would only add a round trip.
    prepare = bool(connection.settings_dict.get("OPTIONS", {}).get("pool"))
    with connection.wrap_database_errors:
        raw = connection.connection
        if raw.prepare_threshold is None:
            raw.prepare_threshold = ONLY_WHEN_ASKED
        if prepare:
            _plan_once(raw)
        cursor = PreparedCursor(raw)
        cursor.prepare = prepare
    connection.validate_thread_sharing()
    # (django-stubs types the argument as the wrapper these methods make; Django passes the driver's cursor)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)  # type: ignore[arg-type]
    return connection.make_cursor(cursor)  # type: ignore[arg-type]


# As many threads as the process may hold database connections: the loop's default executor has
# cores + 4, which would cap a busy process at six database calls in flight.
_database_threads = ThreadPoolExecutor(
    max_workers=max(4, settings.DATABASES["default"].get("OPTIONS", {}).get("pool", {}).get("max_size", 10)),
    thread_name_prefix="socket-db",
)

P = ParamSpec("P")
R = TypeVar("R")


def in_db_thread(func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """`func` (ORM work) as a coroutine function that runs it on one of this process's database
    threads, with a pooled connection that is checked before and returned after.

    Not Channels' `database_sync_to_async`: that one is thread-sensitive (every call of a process
    queues on one thread), this one is not, so sockets' database work runs side by side. The
    socket's hottest statement (a send) skips the thread altogether: `core.async_db`.
    """

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(run, thread_sensitive=False, executor=_database_threads)
