"""Databases of a test's own on the suite's PostgreSQL server (the machine's, or the embedded one)."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import psycopg

from core.backup import pgtools


def database_url(params: dict[str, str], name: str) -> str:
    host = params.get("host", "")
    credentials = quote(params.get("user", "postgres"), safe="")
    if params.get("password"):
        credentials += ":" + quote(params["password"], safe="")
    if host.startswith("/"):  # the embedded server's socket folder
        return f"postgres://{credentials}@{quote(host, safe='')}/{name}"
    return f"postgres://{credentials}@{host or '127.0.0.1'}:{params.get('port', '5432')}/{name}"


class FreshDatabase:
    """A database of the test's own on the suite's server, dropped afterwards."""

    def __init__(self, label: str = "restore") -> None:
        self.params = pgtools.libpq_params()
        self.name = f"{self.params['dbname']}_{label}_{uuid.uuid4().hex[:8]}"
        self._admin(f'CREATE DATABASE "{self.name}"')

    def _admin(self, statement: str) -> None:
        with psycopg.connect(**{**self.params, "dbname": "postgres"}, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute(statement)  # a name made above

    @property
    def url(self) -> str:
        return database_url(self.params, self.name)

    def query(self, statement: str) -> list[tuple]:
        with psycopg.connect(**{**self.params, "dbname": self.name}, autocommit=True) as conn:  # type: ignore[arg-type]
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def tables(self) -> list[str]:
        return [row[0] for row in self.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
