"""PostgreSQL's client programs, of the server's own major version, and how to reach the server.

pg_dump refuses a server newer than itself, and a newer pg_dump or pg_restore writes SQL an older
server may not take (pg_dump 17 sets `transaction_timeout`, which PostgreSQL 15 rejects). So the
programs used are those whose major version is the server's: from `BACKUP_PG_BIN_DIR` when set,
else the first found among the embedded server's own (`pgserver` ships its client programs), the
machine's `/usr/lib/postgresql/<major>/bin` and the `PATH`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections


class ToolsMissing(Exception):
    """No pg_dump / pg_restore of the server's major version was found."""


@dataclass(frozen=True)
class PgTools:
    bin_dir: Path
    major: int
    version: str  # "15.20"

    def program(self, name: str) -> str:
        return str(self.bin_dir / name)


def libpq_params(alias: str = "default") -> dict[str, str]:
    """Connection parameters of a Django database as libpq reads them (`psycopg.connect(**...)`)."""
    db = connections[alias].settings_dict
    options = db.get("OPTIONS", {})
    params = {
        "dbname": db["NAME"],
        "user": db.get("USER") or "",
        "password": db.get("PASSWORD") or "",
        # the embedded server's socket directory comes as an option (`?host=` in its URL)
        "host": db.get("HOST") or options.get("host") or "",
        "port": str(db.get("PORT") or ""),
        "sslmode": options.get("sslmode", ""),
        "connect_timeout": str(options.get("connect_timeout", "")),
    }
    return {key: value for key, value in params.items() if value}


def libpq_env(params: dict[str, str]) -> dict[str, str]:
    """The environment that points pg_dump / pg_restore at a server (the password never on a command line)."""
    names = {
        "host": "PGHOST",
        "port": "PGPORT",
        "user": "PGUSER",
        "password": "PGPASSWORD",
        "dbname": "PGDATABASE",
        "sslmode": "PGSSLMODE",
        "connect_timeout": "PGCONNECT_TIMEOUT",
    }
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update({names[key]: value for key, value in params.items() if key in names})
    return env


def _pgserver_bin() -> Path | None:
    spec = importlib.util.find_spec("pgserver")  # a development package: absent from the production image
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "pginstall" / "bin"


def candidate_dirs() -> list[Path]:
    configured = getattr(settings, "BACKUP_PG_BIN_DIR", "")
    if configured:
        return [Path(configured)]
    dirs = [d for d in [_pgserver_bin()] if d is not None]
    dirs += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    on_path = shutil.which("pg_dump")
    if on_path:
        dirs.append(Path(on_path).resolve().parent)
    return dirs


def tools_version(bin_dir: Path) -> tuple[int, str] | None:
    """(major, "major.minor") of the pg_dump in `bin_dir`, None without a working pair."""
    if not ((bin_dir / "pg_dump").is_file() and (bin_dir / "pg_restore").is_file()):
        return None
    try:
        out = subprocess.run(
            [str(bin_dir / "pg_dump"), "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\) (\d+)(?:\.\d+)*", out)  # "pg_dump (PostgreSQL) 15.20 (Debian ...)"
    if not found:
        return None
    return int(found.group(1)), found.group(0)[2:]


def tools_for(server_major: int) -> PgTools:
    seen: list[str] = []
    for bin_dir in candidate_dirs():
        version = tools_version(bin_dir)
        if version is None:
            continue
        seen.append(f"{version[1]} in {bin_dir}")
        if version[0] == server_major:
            return PgTools(bin_dir=bin_dir, major=version[0], version=version[1])
    found = "; ".join(seen) or "none"
    raise ToolsMissing(
        f"No pg_dump/pg_restore of PostgreSQL {server_major} (the server's major version) was found "
        f"(found: {found}). Install that version's client programs (Debian: postgresql-client-{server_major}) "
        "or point BACKUP_PG_BIN_DIR at their folder."
    )


def server_version(cursor: Any) -> tuple[int, str]:
    """(major, full version string) of the server a cursor is connected to."""
    cursor.execute("SELECT current_setting('server_version_num')::int, current_setting('server_version')")
    number, text = cursor.fetchone()
    return number // 10000, text
