"""Writing and restoring the backup archive (see the package's docstring for what it holds)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import django
import psycopg
from django.conf import settings
from django.core.files.storage import default_storage
from psycopg import sql

from core.backup.pgtools import PgTools, ToolsMissing, libpq_env, libpq_params, server_version, tools_for

FORMAT = "crm-backup"
VERSION = 1
DUMP = "database.dump"
MANIFEST = "manifest.json"
FILES = "files/"
CHUNK = 1024 * 1024


class BackupRefused(Exception):
    """The backup was not written (the output exists, the tools are missing, pg_dump failed)."""


class RestoreRefused(Exception):
    """Nothing was restored: the target is not empty, or the archive is corrupt, truncated or unusable."""


class Bar(Protocol):
    def update(self, n: int) -> object: ...
    def close(self) -> None: ...


# (description, total or None, unit) -> a progress bar; the commands pass tqdm's
ProgressFactory = Callable[[str, int | None, str], Bar]


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def no_progress(desc: str, total: int | None, unit: str) -> Bar:
    return _NoBar()


@dataclass
class BackupSummary:
    output: Path
    size: int
    tables: int
    rows: int
    files: int
    file_bytes: int
    server_version: str
    tools: str
    storage: str
    seconds: float


@dataclass
class RestoreReport:
    archive: Path
    created_at: str
    source_server_version: str
    server_version: str
    tables_checked: int = 0
    rows: int = 0
    files_checked: int = 0
    file_bytes: int = 0
    storage: str = "local"
    problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- shared -----------------------------------------------------------------------------------


class _HashingReader:
    """Reads `size` bytes of a file for tarfile, hashing them and moving a progress bar as it goes."""

    def __init__(self, handle: IO[bytes], bar: Bar) -> None:
        self.handle, self.bar = handle, bar
        self.sha256 = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.handle.read(n)
        self.sha256.update(data)
        self.bar.update(len(data))
        return data


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _local_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(storage key, path) of every regular file under `root`, in a stable order."""
    if not root.exists():
        return
    for directory, subdirs, names in os.walk(root):
        subdirs.sort()
        for name in sorted(names):
            path = Path(directory) / name
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


def _s3_objects() -> tuple[str, list[dict[str, Any]], str]:
    """(bucket, every object's key, size and ETag, versioning status) of the default storage's bucket."""
    storage: Any = default_storage
    client = storage.connection.meta.client
    bucket = storage.bucket_name
    prefix = (storage.location or "").strip("/")
    objects = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""):
        for item in page.get("Contents", []):
            key = item["Key"][len(prefix) + 1 :] if prefix else item["Key"]
            objects.append({"key": key, "size": item["Size"], "etag": item["ETag"].strip('"')})
    versioning = client.get_bucket_versioning(Bucket=bucket).get("Status", "Disabled")
    return bucket, sorted(objects, key=lambda o: o["key"]), versioning


def _tables(cursor: Any) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT schemaname, tablename FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY schemaname, tablename"
    )
    return list(cursor.fetchall())


def _row_counts(cursor: Any) -> dict[str, int]:
    counts = {}
    for schema, table in _tables(cursor):
        cursor.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
        counts[f"{schema}.{table}"] = cursor.fetchone()[0]
    return counts


def _connect(params: dict[str, str]) -> psycopg.Connection[Any]:
    """A connection of its own, outside Django's pool (a snapshot must stay open while pg_dump runs)."""
    return psycopg.connect(**params)  # type: ignore[arg-type]  # libpq keywords, all strings


def _run_with_growing_file(command: list[str], env: dict[str, str], watched: Path, bar: Bar) -> str:
    """Run a pg program; the bar follows the size of the file it writes. Returns its stderr."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read() if process.stderr else b""))
    reader.start()
    shown = 0
    while process.poll() is None:
        time.sleep(0.2)
        size = watched.stat().st_size if watched.exists() else 0
        bar.update(size - shown)
        shown = size
    reader.join()
    size = watched.stat().st_size if watched.exists() else 0
    bar.update(size - shown)
    message = b"".join(errors).decode(errors="replace").strip()
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command, stderr=message)
    return message


# --- backup -----------------------------------------------------------------------------------


def backup_create(*, output: Path, progress: ProgressFactory = no_progress) -> BackupSummary:
    """Write the archive to `output`, which must not exist; written beside it and linked into place
    only when complete, so a failed or interrupted run never leaves something that looks like a backup."""
    started = time.monotonic()
    output = output.resolve()
    if output.exists():
        raise BackupRefused(f"{output} exists; a backup never overwrites (choose another name).")
    if not output.parent.is_dir():
        raise BackupRefused(f"{output.parent} is not a folder.")
    params = libpq_params()
    partial = output.with_name(f".{output.name}.partial-{os.getpid()}")
    work = Path(tempfile.mkdtemp(prefix=".backup-", dir=output.parent))
    try:
        conn = _connect(params)
    except psycopg.OperationalError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise BackupRefused(f"cannot reach the database {params.get('dbname')!r}: {exc}".strip()) from None
    try:
        with conn:
            conn.read_only = True
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            cursor = conn.cursor()
            major, version = server_version(cursor)
            try:
                tools = tools_for(major)
            except ToolsMissing as exc:
                raise BackupRefused(str(exc)) from None
            cursor.execute("SELECT pg_export_snapshot(), pg_database_size(current_database())")
            row = cursor.fetchone()
            assert row is not None  # (one row, always)
            snapshot, database_size = row
            counts = _row_counts(cursor)  # in the snapshot pg_dump reads
            dump = work / DUMP
            bar = progress("database", database_size, "B")
            try:
                _run_with_growing_file(
                    [tools.program("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--file={dump}"],
                    libpq_env(params),
                    dump,
                    bar,
                )
            except subprocess.CalledProcessError as exc:
                raise BackupRefused(f"pg_dump failed: {exc.stderr}") from None
            finally:
                bar.close()
            conn.rollback()
        manifest = _manifest(tools=tools, version=version, major=major, counts=counts, dump=dump)
        with open(partial, "xb") as handle, tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(dump, arcname=DUMP)
            if settings.STORAGE_BACKEND == "s3":
                bucket, objects, versioning = _s3_objects()
                manifest["storage"] = {
                    "backend": "s3",
                    "bucket": bucket,
                    "versioning": versioning,
                    "objects": objects,
                    "total_bytes": sum(o["size"] for o in objects),
                }
            else:
                manifest["storage"] = _add_local_files(tar, Path(settings.MEDIA_ROOT), progress)
            body = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(body), int(time.time())
            tar.addfile(info, io.BytesIO(body))
        try:
            os.link(partial, output)  # fails if someone created `output` meanwhile: never overwritten
        except FileExistsError:
            raise BackupRefused(f"{output} appeared while the backup ran; not overwritten.") from None
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    storage = manifest["storage"]
    listed = storage.get("files") or storage.get("objects") or []
    return BackupSummary(
        output=output,
        size=output.stat().st_size,
        tables=len(counts),
        rows=sum(counts.values()),
        files=len(listed),
        file_bytes=storage["total_bytes"],
        server_version=version,
        tools=f"{tools.version} ({tools.bin_dir})",
        storage=storage["backend"],
        seconds=time.monotonic() - started,
    )


def _manifest(*, tools: PgTools, version: str, major: int, counts: dict[str, int], dump: Path) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "django": django.get_version(),
        "database": {
            "name": libpq_params().get("dbname", ""),
            "server_version": version,
            "server_major": major,
            "pg_dump_version": tools.version,
            "dump": DUMP,
            "size": dump.stat().st_size,
            "sha256": _sha256_of(dump),
        },
        "tables": counts,
    }


def _add_local_files(tar: tarfile.TarFile, root: Path, progress: ProgressFactory) -> dict[str, Any]:
    found = list(_local_files(root))
    total = sum(path.stat().st_size for _, path in found)
    bar = progress("files", total, "B")
    files = []
    try:
        for key, path in found:
            with open(path, "rb") as handle:
                info = tar.gettarinfo(fileobj=handle, arcname=FILES + key)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                reader = _HashingReader(handle, bar)
                tar.addfile(info, reader)
            files.append({"key": key, "size": info.size, "sha256": reader.sha256.hexdigest()})
    finally:
        bar.close()
    return {"backend": "local", "files": files, "total_bytes": sum(f["size"] for f in files)}


# --- restore ----------------------------------------------------------------------------------


def _objects_in(cursor: Any) -> list[str]:
    """A few of the relations and functions already in the database (empty: nothing to lose)."""
    cursor.execute(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' "
        "UNION ALL SELECT n.nspname || '.' || p.proname || '()' FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace LEFT JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e' "
        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND d.objid IS NULL "
        "ORDER BY 1 LIMIT 5"
    )
    return [row[0] for row in cursor.fetchall()]


def backup_scheduled(*, folder: Path, keep: int, progress: ProgressFactory = no_progress) -> BackupSummary:
    """The nightly backup: `crm-<UTC time>.tar` in `folder`, then only the `keep` newest such archives kept."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = backup_create(output=folder / f"crm-{datetime.now(UTC):%Y%m%d-%H%M%S}.tar", progress=progress)
    archives = sorted(folder.glob("crm-*.tar"))
    for old in archives[: max(0, len(archives) - max(keep, 1))]:
        old.unlink()
    return summary
