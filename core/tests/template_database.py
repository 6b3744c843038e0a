"""The test database, cloned from a migrated template instead of migrated again on every run.

Migrating a fresh test database takes each pytest process about 4.5 s (the first test's setup). The first
run with a given set of migrations migrates as usual and then keeps a copy of the result, a template named
after a digest of everything that decides the schema (every migration and SQL file of the project, the
pinned dependencies); later runs, and the other pytest-xdist workers, clone it (`CREATE DATABASE ...
TEMPLATE`, ~0.3 s). A changed migration is a new digest, so a new template: a stale schema is never
reused (which `--reuse-db` cannot promise). Older templates of the same test database are dropped when a
new one is kept. Wired in the root conftest (`django_db_keepdb`, `_migrated_template_kept`).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
LOCK = 7_331_001  # the advisory lock serialising the run's processes keeping a template


def schema_digest() -> str:
    digest = hashlib.sha256()
    files = [ROOT / "constraints.txt", *ROOT.glob("*/migrations/*.py"), *ROOT.glob("*/sql/**/*.sql")]
    for path in sorted(files):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@functools.cache
def names() -> tuple[str, str]:
    """(the test database this process uses, its template). First asked before the test database is set
    up (Django then renames the database in the settings), after pytest-django added the xdist suffix."""
    database = settings.DATABASES["default"]
    test_name = database["TEST"].get("NAME") or f"test_{database['NAME']}"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    base = test_name.removesuffix(f"_{worker}") if worker else test_name
    return test_name, f"{base[:40]}_tpl_{schema_digest()}"


@contextmanager
def connect(name: str = "postgres") -> Iterator[psycopg.Cursor[Any]]:
    """A cursor on database `name` of the tests' server (the maintenance database by default), reached as
    Django reaches it (host, port, a socket directory given as an option: the embedded server's)."""
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**{**params, "dbname": name}, autocommit=True) as connection:
        yield connection.cursor()


@contextmanager
def _server() -> Iterator[psycopg.Cursor[Any]]:
    """The maintenance database, holding the lock."""
    with connect() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK])
        yield cursor


def exists(name: str) -> bool:
    with connect() as cursor:
        return _exists(cursor, name)


def _exists(cursor: psycopg.Cursor[Any], name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    return cursor.fetchone() is not None


def clone() -> bool:
    """Make this process's test database a copy of the template; False when there is no template yet."""
    test_name, template = names()
    with connect() as cursor:  # (workers clone at once: PostgreSQL copies one template to several)
        if not _exists(cursor, template):
            return False
        cursor.execute(f'DROP DATABASE IF EXISTS "{test_name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{test_name}" TEMPLATE "{template}"')
    return True


def _disconnect() -> None:
    """This process's connections to the test database closed, its pool's too (no session may be on a
    database that is copied or dropped)."""
    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()


def keep() -> None:
    """Keep the freshly migrated test database as the template (nobody may be connected to it meanwhile)."""
    test_name, template = names()
    _disconnect()
    with _server() as cursor:
        if _exists(cursor, template):
            return  # another process of the run kept it first
        try:
            cursor.execute(f'CREATE DATABASE "{template}" TEMPLATE "{test_name}"')
        except psycopg.errors.ObjectInUse:  # a thread still connected: the next run keeps it
            logger.warning("the migrated test database was in use: not kept as a template")
            return
        prefix = template.rsplit("_", 1)[0] + "_"
        cursor.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) AND datname <> %s", [prefix, template]
        )
        for (older,) in cursor.fetchall():
            cursor.execute(f'DROP DATABASE IF EXISTS "{older}" WITH (FORCE)')


def drop() -> None:
    """Drop this process's cloned test database at the end of the run (pytest-django keeps what it reused)."""
    test_name, _ = names()
    _disconnect()
    with connect() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{test_name}" WITH (FORCE)')
