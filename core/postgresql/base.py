"""Django's PostgreSQL backend, failing fast while the server is down (see `core.outages`).

Without this, every request during an outage waited DB_POOL_TIMEOUT for a pooled connection
that could not come, the pool kept retrying in the background with a growing back-off (so it
could take half a minute after the server returned before requests worked again), and after
a restart each broken connection left in the pool failed the next request that took it.
"""

import select
from types import ModuleType
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

from core.outages import database


def has_input(connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Whether the server sent an idle connection something (a restart, an idle timeout: the
    connection is dead), or the connection is unusable. A poll, not a query. (`poll`, not
    `select`: a server process with a thousand sockets has descriptors `select` cannot watch.)"""
    try:
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _broken(connection: psycopg.Connection[Any]) -> bool:
    """Whether a connection taken from the pool is dead. An idle connection has nothing to read
    unless the server told it something, which is how a restart or an idle timeout shows: only
    then is it asked (a round trip). A healthy one costs a poll, not a query."""
    if not has_input(connection):
        return False
    try:
        ConnectionPool.check_connection(connection)
    except Exception:
        return True
    return False


class DatabaseWrapper(base.DatabaseWrapper):
    # Django's own (django-stubs leaves them out): the pools by alias, and the DB-API module (psycopg)
    _connection_pools: dict[str, ConnectionPool]
    Database: ModuleType

    def __init__(self, settings_dict: dict[str, Any], alias: str = DEFAULT_DB_ALIAS) -> None:
        super().__init__(settings_dict, alias)
        self.outage = database(alias)
        self.outage.pools = self._connection_pools
        pool = self.settings_dict["OPTIONS"].get("pool")
        if pool:  # the pool connects through the outage's connection class (a failed attempt is noticed)
            self.settings_dict["OPTIONS"]["pool"] = {
                **({} if pool is True else pool),
                "connection_class": self.outage.connection_class,
            }

    def get_new_connection(self, conn_params: dict[str, Any]) -> psycopg.Connection[Any]:
        self.outage.before_connect(self)
        try:
            connection: psycopg.Connection[Any] = super().get_new_connection(conn_params)
            pool = getattr(connection, "_pool", None)  # None without pooling
            while pool is not None and _broken(connection):
                pool.putconn(connection)  # the pool drops it and opens another
                pool.check()  # and drops every idle one that broke with it
                connection = super().get_new_connection(conn_params)
                pool = getattr(connection, "_pool", None)
        except self.Database.OperationalError as exc:  # the pool's timeout and closed errors too
            self.outage.connect_failed(self, exc)
            raise
        return connection
