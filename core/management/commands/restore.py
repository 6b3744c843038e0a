"""`manage.py restore FILE`: a backup into an empty database and an empty MEDIA_ROOT, checked against its manifest."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.backup import RestoreRefused, restore_archive
from core.management.progress import progress_factory


class Command(BaseCommand):
    help = (
        "Restore an archive written by `manage.py backup` into the configured database, which must be empty "
        "(createdb, no migrate), and MEDIA_ROOT, which must hold no file. The whole archive is checked first; "
        "a corrupt or truncated one is refused with nothing written. Then every table's row count and every "
        "file's checksum is compared with the manifest and a report printed; exits non-zero on any difference."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)

    def handle(self, *args: Any, archive: Path, **options: Any) -> None:
        try:
            report = restore_archive(archive=Path(archive), progress=progress_factory(self.stdout))
        except RestoreRefused as exc:
            raise CommandError(f"Nothing restored: {exc}") from None
        files = "files" if report.storage == "local" else "S3 objects (left in the bucket)"
        lines = [
            (
                f"Restored {report.archive} (backup of {report.created_at}, "
                f"PostgreSQL {report.source_server_version}) into PostgreSQL {report.server_version}."
            ),
            f"  tables checked: {report.tables_checked} ({report.rows:,} rows)",
            f"  {files} checked: {report.files_checked} ({report.file_bytes:,} bytes)",
            "  time: " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.seconds.items()),
        ]
        self.stdout.write("\n".join(lines))
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(f"  MISMATCH {problem}")
            raise CommandError(f"The restore does not match the backup's manifest ({len(report.problems)} problems).")
        self.stdout.write(self.style.SUCCESS("Every table's row count and every file's checksum match the backup."))
