"""A backup archive restored (`manage.py restore`): every member checked against the manifest before
anything is touched, the dump restored in one transaction, the files moved into place, then every
table counted and every file hashed again (the package docstring, `core/backup/__init__.py`)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections

from core.backup.archive import (
    CHUNK,
    DUMP,
    FILES,
    FORMAT,
    MANIFEST,
    VERSION,
    ProgressFactory,
    RestoreRefused,
    RestoreReport,
    _connect,
    _local_files,
    _NoBar,
    _objects_in,
    _row_counts,
    _run_with_growing_file,
    _s3_objects,
    _sha256_of,
    no_progress,
)
from core.backup.pgtools import ToolsMissing, libpq_env, libpq_params, server_version, tools_for


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
