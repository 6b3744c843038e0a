"""Django's PostgreSQL backend, failing fast while the server is down (see `core.outages`).

Without this, every request during an outage waited DB_POOL_TIMEOUT for a pooled connection
that could not come, and the pool kept retrying in the background with a growing back-off, so
it could take half a minute after the server returned before requests worked again.
"""

from django.db import DEFAULT_DB_ALIAS
from django.db.backends.postgresql import base

from core.outages import database


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, settings_dict, alias=DEFAULT_DB_ALIAS):
        super().__init__(settings_dict, alias)
        self.outage = database(alias)
        self.outage.pools = self._connection_pools
        pool = self.settings_dict["OPTIONS"].get("pool")
        if pool:  # the pool connects through the outage's connection class (a failed attempt is noticed)
            self.settings_dict["OPTIONS"]["pool"] = {**({} if pool is True else pool),
                                                     "connection_class": self.outage.connection_class}

    def get_new_connection(self, conn_params):
        self.outage.before_connect(self)
        try:
            return super().get_new_connection(conn_params)
        except self.Database.OperationalError as exc:  # the pool's timeout and closed errors too
            self.outage.connect_failed(self, exc)
            raise
