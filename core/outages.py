"""What a server process does while PostgreSQL or Redis is unreachable.

Nothing turns into a 500 with a traceback, and nothing waits for a connection that cannot come:

- `unavailable(exc)` tells whether an exception means a dependency is down (Redis connection,
  timeout or read-only errors; PostgreSQL operational and interface errors) and returns the
  `ServiceUnavailable` (503 `service_unavailable`) to answer. The REST exception handler, the
  middleware below (admin, allauth and other plain views) and the 500 handler all ask it.
- Redis: after a failed call, Redis counts as down for `REDIS_RETRY_SECONDS`; callers that can do
  without it (the API throttles count in process memory, event publishes are dropped: clients catch
  up with `after=<seq>`) skip it meanwhile instead of each trying to connect. The first call after
  that window tries Redis again, so a returning Redis is used within a quarter of a second (every
  event published in the window is dropped, so it is short).
- PostgreSQL (`database()`, used by the `core.postgresql` backend): when a connection cannot be
  had (the pool's own attempts included) or breaks, one direct connection attempt
  (`DB_CONNECT_TIMEOUT`) decides whether the server is down. If so the process's pool is closed
  (requests waiting for a connection get their 503 at once, and nothing reconnects in the
  background), and until a probe, at most one a second, reaches the server again, every database
  call fails at once. The pool is rebuilt on the first connection after that. A restart between
  two requests fails neither: the backend replaces the broken connections it finds in the pool.

Each outage is logged once as a warning when it is found, then at most once a minute while it
lasts (with how many failures were not logged), and once more when the dependency is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psycopg
import redis.exceptions
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection
from django.db import utils as db_utils
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from psycopg_pool import ConnectionPool

if TYPE_CHECKING:
    from core.errors import ServiceUnavailable

logger = logging.getLogger("crm.outages")

REDIS_RETRY_SECONDS = 0.25  # how long Redis is skipped after a failed call
DATABASE_PROBE_SECONDS = 1.0  # how often a process tries PostgreSQL again while it is down
LOG_EVERY_SECONDS = 60.0

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ReadOnlyError)
DATABASE_ERRORS = (db_utils.OperationalError, db_utils.InterfaceError, psycopg.OperationalError)


class Outage:
    """One dependency's state in this process, and the log lines about it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.since: float | None = None  # monotonic time it was found down; None while it works
        self.logged_at = 0.0
        self.unlogged = 0

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, what: str, exc: BaseException | None = None) -> None:
        now = time.monotonic()
        with self.lock:
            since = self.since
            first = since is None
            if since is None:
                since = self.since = now
            if not first and now - self.logged_at < LOG_EVERY_SECONDS:
                self.unlogged += 1
                return
            self.logged_at, unlogged, self.unlogged = now, self.unlogged, 0
            down_for = now - since
        logger.warning(
            "%s unreachable (%s)",
            self.name,
            what,
            extra={
                "dependency": self.name,
                "what": what,
                "error": _describe(exc),
                "down_seconds": round(down_for, 1),
                "failures_not_logged": unlogged,
            },
        )

    def recovered(self) -> None:
        if self.since is None:
            return
        with self.lock:
            if self.since is None:
                return
            down_for, self.since, self.unlogged = time.monotonic() - self.since, None, 0
        logger.warning(
            "%s reachable again after %.1f s",
            self.name,
            down_for,
            extra={"dependency": self.name, "down_seconds": round(down_for, 1)},
        )


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return ""
    return f"{exc.__class__.__name__}: {str(exc).strip()[:200]}"


class RedisOutage(Outage):
    last_failure = float("-inf")

    def failed(self, what: str, exc: BaseException | None = None, *, skipped: bool = False) -> None:
        """A call failed (or, `skipped`, was not tried: that does not extend the wait before Redis is tried)."""
        if not skipped:
            self.last_failure = time.monotonic()
        super().failed(what, exc)

    def skip(self) -> bool:
        """True while Redis failed less than REDIS_RETRY_SECONDS ago: do without it."""
        return self.since is not None and time.monotonic() - self.last_failure < REDIS_RETRY_SECONDS


class DatabaseOutage(Outage):
    """Fail fast while PostgreSQL is down (one per database alias); see the module's docstring."""

    next_probe = 0.0
    # the backend's pools by alias (DatabaseWrapper._connection_pools), set by core.postgresql
    pools: dict[str, ConnectionPool] = {}

    def __init__(self, alias: str) -> None:
        super().__init__("PostgreSQL" if alias == DEFAULT_DB_ALIAS else f"PostgreSQL ({alias})")
        self.alias = alias
        outage = self

        class PoolConnection(psycopg.Connection[Any]):
            """What the pool connects with: a failed attempt (the pool's own, in the background)
            marks the database down at once, so requests waiting for a connection stop waiting."""

            @classmethod
            def connect(cls, *args: Any, **kwargs: Any) -> PoolConnection:
                try:
                    return super().connect(*args, **kwargs)
                except psycopg.OperationalError as exc:
                    outage.went_down("pool connect", exc)
                    raise

        PoolConnection.__qualname__ = "PoolConnection"  # as psycopg's pool logs name it
        self.connection_class: type[psycopg.Connection[Any]] = PoolConnection

    def before_connect(self, wrapper: BaseDatabaseWrapper) -> None:
        """Called before a connection is taken: raises at once while the database is known to be down."""
        if self.since is None:
            return
        with self.lock:
            due = time.monotonic() >= self.next_probe
            if due:
                self.next_probe = time.monotonic() + DATABASE_PROBE_SECONDS
        if not due or not self.reachable(wrapper):
            self.failed("connect")
            raise psycopg.OperationalError(f"{self.name} is unreachable (tried again once a second)")
        self.recovered()

    def connect_failed(self, wrapper: BaseDatabaseWrapper, exc: BaseException) -> None:
        """No connection from the pool: the server is down, or the pool is busy (then nothing changes)."""
        if self.since is None and self.reachable(wrapper):
            return
        self.went_down("connect", exc)

    def query_failed(self, wrapper: BaseDatabaseWrapper, exc: BaseException) -> None:
        """A request's database call raised: an outage only if its connection broke."""
        if wrapper.connection is not None and not wrapper.connection.closed:
            return  # the connection works: a deadlock, a timeout, not an outage
        if self.since is not None:
            return
        if self.reachable(wrapper):  # restarted between two requests: drop what broke with it
            pool = self.pools.get(self.alias)
            if pool is not None:
                pool.check()
        else:
            self.went_down("query", exc)

    def went_down(self, what: str, exc: BaseException | None) -> None:
        with self.lock:
            self.next_probe = time.monotonic() + DATABASE_PROBE_SECONDS
            pool = self.pools.pop(self.alias, None)
        self.failed(what, exc)
        if pool is not None:  # requests waiting for a connection fail now; connections in use close when returned
            threading.Thread(target=pool.close, name="pool-close", daemon=True).start()

    @staticmethod
    def reachable(wrapper: BaseDatabaseWrapper) -> bool:
        params = {**wrapper.get_connection_params(), "connect_timeout": settings.DB_CONNECT_TIMEOUT}
        try:
            wrapper.Database.connect(**params).close()  # type: ignore[attr-defined]  # the DB-API module (not in the stubs)
        except Exception:
            return False
        return True


redis_outage = RedisOutage("Redis")
_databases: dict[str, DatabaseOutage] = {}
_databases_lock = threading.Lock()


def database(alias: str = DEFAULT_DB_ALIAS) -> DatabaseOutage:
    found = _databases.get(alias)
    if found is None:
        with _databases_lock:
            found = _databases.setdefault(alias, DatabaseOutage(alias))
    return found


def unavailable(exc: BaseException, what: str = "request") -> ServiceUnavailable | None:
    """The ServiceUnavailable (503) to answer when `exc` means PostgreSQL or Redis is down (and note
    the outage), else None."""
    # Imported here: the database backend loads this module before DRF (core.errors) can be.
    from core.errors import ServiceUnavailable  # noqa: PLC0415

    if isinstance(exc, REDIS_ERRORS):
        redis_outage.failed(what, exc)
        return ServiceUnavailable(
            "A service this request needs is briefly unavailable; try again shortly.", details={"dependency": "redis"}
        )
    if isinstance(exc, DATABASE_ERRORS):
        database().query_failed(connection, exc)
        if not database().down:
            logger.warning("database error", extra={"error": _describe(exc)})
        return ServiceUnavailable(
            "The database is briefly unavailable; try again shortly.", details={"dependency": "database"}
        )
    return None


RETRY_AFTER_SECONDS = 5


def unavailable_response(request: HttpRequest, error: ServiceUnavailable) -> HttpResponse:
    from core.errors import error_body  # noqa: PLC0415 - core.errors imports this module

    if request.path.startswith(("/admin/", "/accounts/")):  # people in a browser
        response = HttpResponse("<h1>Service unavailable</h1><p>Please try again in a few seconds.</p>", status=503)
    else:
        response = JsonResponse(
            error_body(error.code, error.message, {**error.details, "retry_after": RETRY_AFTER_SECONDS}), status=503
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class NoOutageTracebacks(logging.Filter):
    """An outage is not a bug: a record about a PostgreSQL or Redis connection failure keeps its
    message but loses its traceback (Django's for an exception in a middleware, channels_redis'
    once a second while Redis is away); the outage itself is logged here, once."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], REDIS_ERRORS + DATABASE_ERRORS):
            record.exc_info = record.exc_text = None
        return True


class DependencyErrorMiddleware:
    """Views outside DRF (admin, allauth, /metrics): a dependency that is down answers 503, not 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        error = unavailable(exception)
        return None if error is None else unavailable_response(request, error)
