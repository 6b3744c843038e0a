"""Backups of the whole installation in one archive, and their restore (`manage.py backup` / `restore`).

The archive is an uncompressed tar (what it holds is compressed already):

- `database.dump`: `pg_dump --format=custom` of the project's database;
- `files/<key>`: every file under MEDIA_ROOT (with `STORAGE_BACKEND=s3` no files: the manifest lists
  the bucket's objects instead, and bucket versioning keeps them);
- `manifest.json`, last: the server's version, the dump's size and SHA-256, every table's row count
  and every file's size and SHA-256 (or every object's key, size and ETag).

The row counts and the dump come from one snapshot (`pg_export_snapshot()` handed to pg_dump), so
they agree while the site keeps writing. A restore reads the whole archive and checks every member
against the manifest before it touches anything, restores the dump in one transaction (a failure
leaves the database empty), moves the files into place, then counts every table and hashes every
file again and reports.
"""

from core.backup.archive import (
    BackupRefused,
    BackupSummary,
    RestoreRefused,
    RestoreReport,
    backup_create,
    backup_scheduled,
)
from core.backup.restore import restore_archive

__all__ = [
    "BackupRefused",
    "BackupSummary",
    "RestoreRefused",
    "RestoreReport",
    "backup_create",
    "backup_scheduled",
    "restore_archive",
]
