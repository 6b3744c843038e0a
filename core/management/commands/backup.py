"""`manage.py backup --output FILE`: the database, the files (or their manifest) and row counts, in one archive."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.backup import BackupRefused, backup_create
from core.management.progress import progress_factory


class Command(BaseCommand):
    help = (
        "Write one archive holding a pg_dump (custom format) of the database, every file under MEDIA_ROOT "
        "(with STORAGE_BACKEND=s3: a manifest of the bucket's objects) and the row count of every table, "
        "taken from one snapshot. Never overwrites FILE. Restore with `manage.py restore FILE`."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, type=Path, help="the archive to write (must not exist)")

    def handle(self, *args: Any, output: Path, **options: Any) -> None:
        try:
            summary = backup_create(output=Path(output), progress=progress_factory(self.stdout))
        except BackupRefused as exc:
            raise CommandError(f"Backup not written: {exc}") from None
        what = (
            f"{summary.files} files ({summary.file_bytes:,} bytes)"
            if summary.storage == "local"
            else f"a manifest of {summary.files} S3 objects ({summary.file_bytes:,} bytes)"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {summary.output}: {summary.size:,} bytes; {summary.tables} tables, "
                f"{summary.rows:,} rows; {what}; PostgreSQL {summary.server_version}, pg_dump {summary.tools}; "
                f"{summary.seconds:.1f} s."
            )
        )
