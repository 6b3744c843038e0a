"""Prepared statements for the hottest reads.

Django leaves psycopg's prepared statements off (they break behind transaction-pooling
pgbouncers) and binds parameters on the client, so PostgreSQL parses and plans every
statement again: 0.4 ms of its CPU for the history page's query, three times the time
it takes to run. `prepared_cursor()` gives a Django cursor (logged and counted like any
other) whose statements are bound on the server and prepared once per pooled connection.
We connect to PostgreSQL directly through psycopg_pool; a transaction-pooling pgbouncer in
front would need `max_prepared_statements` (pgbouncer >= 1.21).
"""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.base import ServerBindingCursor


# psycopg prepares nothing while a connection's threshold is None (Django's default), even when
# asked; a threshold no statement reaches prepares only what asks (Django's own cursors bind on
# the client and never prepare).
ONLY_WHEN_ASKED = 2**31


class PreparedCursor(ServerBindingCursor):
    """Prepared (on pooled connections), and results in PostgreSQL's binary format: a
    timestamp arrives as an integer instead of text to parse (half the page's decoding time).
    Timestamps come back aware, in the connection's time zone (UTC), as Django's own loader
    gives them."""

    prepare = True

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=self.prepare if prepare is None else prepare,
                               binary=True if binary is None else binary)


def prepared_cursor(using: str = DEFAULT_DB_ALIAS):
    connection = connections[using]
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        if connection.connection.prepare_threshold is None:
            connection.connection.prepare_threshold = ONLY_WHEN_ASKED
        cursor = PreparedCursor(connection.connection)
        # Without a pool each request has a new connection: preparing would only add a round trip.
        cursor.prepare = bool(connection.settings_dict.get("OPTIONS", {}).get("pool"))
    connection.validate_thread_sharing()
    return connection.make_debug_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)
