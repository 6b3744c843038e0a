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
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

import django
import psycopg
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connections
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


def _safe_member_name(name: str) -> str | None:
    """The storage key of a `files/` member, None for a name that could escape the folder."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not name.startswith(FILES) or name.endswith("/"):
        return None
    key = name[len(FILES) :]
    return key or None


def _read_archive(archive: Path, staging: Path, progress: ProgressFactory) -> dict[str, Any]:
    """Unpack `archive` into `staging`, checking every member against the manifest; returns the manifest.
    Refuses (RestoreRefused) a corrupt, truncated, foreign or hostile archive."""
    seen: dict[str, tuple[int, str]] = {}
    manifest: dict[str, Any] | None = None
    bar = progress("reading archive", archive.stat().st_size, "B")
    try:
        with tarfile.open(archive, mode="r:") as tar:
            for member in tar:
                if manifest is not None:
                    raise RestoreRefused(f"the archive has a member after its manifest ({member.name!r}).")
                if not member.isfile():
                    raise RestoreRefused(f"the archive holds {member.name!r}, which is not a regular file.")
                source = tar.extractfile(member)
                assert source is not None  # a regular file
                if member.name == MANIFEST:
                    try:
                        manifest = json.loads(source.read())
                    except ValueError:
                        raise RestoreRefused("its manifest is not valid JSON (corrupt archive).") from None
                    continue
                if member.name == DUMP:
                    target = staging / DUMP
                else:
                    key = _safe_member_name(member.name)
                    if key is None:
                        raise RestoreRefused(f"the archive holds {member.name!r}, outside its files folder.")
                    target = staging / "files" / key
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with open(target, "xb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        bar.update(len(chunk))
                seen[member.name] = (member.size, digest.hexdigest())
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, RestoreRefused):
            raise
        raise RestoreRefused(f"the archive is unreadable or truncated ({exc}).") from None
    finally:
        bar.close()
    if manifest is None:
        raise RestoreRefused("the archive has no manifest: it is truncated, or not a backup of this project.")
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise RestoreRefused(f"not a {FORMAT} archive of version {VERSION}.")
    _compare(manifest, seen)
    return manifest


def _compare(manifest: dict[str, Any], seen: dict[str, tuple[int, str]]) -> None:
    database = manifest["database"]
    if seen.pop(DUMP, None) != (database["size"], database["sha256"]):
        raise RestoreRefused("the database dump is missing or differs from its checksum (corrupt archive).")
    storage = manifest["storage"]
    expected = {FILES + f["key"]: (f["size"], f["sha256"]) for f in storage.get("files", [])}
    missing = sorted(set(expected) - set(seen))
    damaged = sorted(name for name in set(expected) & set(seen) if expected[name] != seen[name])
    extra = sorted(set(seen) - set(expected))
    if missing or damaged or extra:
        parts = [
            f"{label}: {', '.join(names[:3])}{' ...' if len(names) > 3 else ''} ({len(names)})"
            for label, names in (("missing", missing), ("checksum differs", damaged), ("not in the manifest", extra))
            if names
        ]
        raise RestoreRefused("the archive's files do not match its manifest: " + "; ".join(parts) + ".")


def _media_has_files(root: Path) -> bool:
    return next(_local_files(root), None) is not None


def restore_archive(*, archive: Path, progress: ProgressFactory = no_progress) -> RestoreReport:
    """Restore into the configured database, which must be empty, and MEDIA_ROOT, which must hold no file.
    Everything is checked before anything is written; the dump is restored in one transaction."""
    timings: dict[str, float] = {}
    clock = time.monotonic()
    archive = archive.resolve()
    if not archive.is_file():
        raise RestoreRefused(f"{archive} is not a file.")
    params = libpq_params()
    connections["default"].close()  # this command's own reads go through a connection of its own
    try:
        with _connect(params) as conn:
            cursor = conn.cursor()
            major, version = server_version(cursor)
            found = _objects_in(cursor)
    except psycopg.OperationalError as exc:
        raise RestoreRefused(f"cannot reach the database {params.get('dbname')!r}: {exc}".strip()) from None
    if found:
        raise RestoreRefused(
            f"the database {params.get('dbname')!r} is not empty (it holds {', '.join(found)}, ...); "
            "restore only into a new, empty database (createdb, and no migrate)."
        )
    media_root = Path(settings.MEDIA_ROOT)
    local = settings.STORAGE_BACKEND != "s3"
    if local and _media_has_files(media_root):
        raise RestoreRefused(f"MEDIA_ROOT ({media_root}) holds files; restore into an empty folder.")
    try:
        tools = tools_for(major)
    except ToolsMissing as exc:
        raise RestoreRefused(str(exc)) from None

    media_root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{media_root.name}.restore-", dir=media_root.parent))
    try:
        manifest = _read_archive(archive, staging, progress)
        timings["read and verify"] = time.monotonic() - clock
        source_major = manifest["database"]["server_major"]
        if source_major > major:
            raise RestoreRefused(
                f"the backup comes from PostgreSQL {source_major}; this server is {major}. "
                "Restore into the same major version or a newer one."
            )
        if (manifest["storage"]["backend"] == "s3") == local:
            raise RestoreRefused(
                f"the backup's files are in {manifest['storage']['backend']} storage; "
                f"this installation uses {settings.STORAGE_BACKEND} (STORAGE_BACKEND)."
            )
        clock = time.monotonic()
        bar = progress("database", manifest["database"]["size"], "B")
        try:
            # One transaction: a failure anywhere leaves the database as empty as it was.
            _run_with_growing_file(
                [
                    tools.program("pg_restore"),
                    "--single-transaction",
                    "--exit-on-error",
                    "--no-owner",
                    "--no-privileges",
                    f"--dbname={params['dbname']}",
                    str(staging / DUMP),
                ],
                libpq_env(params),
                staging / DUMP,
                _NoBar(),
            )
            bar.update(manifest["database"]["size"])
        except subprocess.CalledProcessError as exc:
            raise RestoreRefused(f"pg_restore failed; the database was left empty: {exc.stderr}") from None
        finally:
            bar.close()
        timings["database"] = time.monotonic() - clock
        clock = time.monotonic()
        if local and (staging / "files").exists():
            _move_into(staging / "files", media_root)
        timings["files"] = time.monotonic() - clock
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    clock = time.monotonic()
    report = RestoreReport(
        archive=archive,
        created_at=manifest["created_at"],
        source_server_version=manifest["database"]["server_version"],
        server_version=version,
        storage=manifest["storage"]["backend"],
    )
    _check_tables(report, manifest, params)
    if local:
        _check_files(report, manifest, media_root, progress)
    else:
        _check_objects(report, manifest)
    timings["check"] = time.monotonic() - clock
    report.seconds = timings
    return report


def _move_into(source: Path, media_root: Path) -> None:
    """Files into place: renames on one filesystem (the staging folder sits beside MEDIA_ROOT)."""
    if media_root.exists() and not any(media_root.iterdir()):
        media_root.rmdir()
    if not media_root.exists():
        source.rename(media_root)
        return
    for key, path in _local_files(source):  # MEDIA_ROOT holds only empty folders
        target = media_root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)


def _check_tables(report: RestoreReport, manifest: dict[str, Any], params: dict[str, str]) -> None:
    with _connect(params) as conn:
        counts = _row_counts(conn.cursor())
    expected: dict[str, int] = manifest["tables"]
    for table, rows in sorted(expected.items()):
        if counts.get(table) != rows:
            report.problems.append(f"table {table}: {counts.get(table, 'missing')} rows, the backup had {rows}")
    for table in sorted(set(counts) - set(expected)):
        report.problems.append(f"table {table} is not in the backup's manifest")
    report.tables_checked = len(expected)
    report.rows = sum(counts.values())


def _check_files(report: RestoreReport, manifest: dict[str, Any], media_root: Path, progress: ProgressFactory) -> None:
    files = manifest["storage"]["files"]
    bar = progress("checking files", sum(f["size"] for f in files), "B")
    try:
        for entry in files:
            path = media_root / entry["key"]
            if not path.is_file():
                report.problems.append(f"file {entry['key']} is missing")
            elif _sha256_of(path) != entry["sha256"]:
                report.problems.append(f"file {entry['key']}: checksum differs")
            else:
                report.files_checked += 1
                report.file_bytes += entry["size"]
            bar.update(entry["size"])
    finally:
        bar.close()


def _check_objects(report: RestoreReport, manifest: dict[str, Any]) -> None:
    """S3: the files were never in the archive; every object listed must still be in the bucket as it was."""
    _, objects, _ = _s3_objects()
    now = {o["key"]: o for o in objects}
    for entry in manifest["storage"]["objects"]:
        found = now.get(entry["key"])
        if found is None:
            report.problems.append(f"object {entry['key']} is missing from the bucket (see its versions)")
        elif (found["size"], found["etag"]) != (entry["size"], entry["etag"]):
            report.problems.append(f"object {entry['key']} changed since the backup (size or ETag differs)")
        else:
            report.files_checked += 1
            report.file_bytes += entry["size"]


def backup_scheduled(*, folder: Path, keep: int, progress: ProgressFactory = no_progress) -> BackupSummary:
    """The nightly backup: `crm-<UTC time>.tar` in `folder`, then only the `keep` newest such archives kept."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = backup_create(output=folder / f"crm-{datetime.now(UTC):%Y%m%d-%H%M%S}.tar", progress=progress)
    archives = sorted(folder.glob("crm-*.tar"))
    for old in archives[: max(0, len(archives) - max(keep, 1))]:
        old.unlink()
    return summary
