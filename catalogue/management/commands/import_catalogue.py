"""`manage.py import_catalogue FILE.csv`: universities and courses upserted by natural key, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import Role, User
from catalogue.importer import COLUMNS, catalogue_import
from core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import universities and courses from a CSV file (one course per row, with its university): "
        f"columns {', '.join(COLUMNS)}. Every row is checked first; one bad row and nothing is written "
        "(the report says which row, which column, why). Rows already there are updated, by natural key."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument("--as", dest="email", help="the super admin or manager importing (default: a super admin)")

    def handle(self, *args, file: Path, dry_run: bool, email: str | None, **options):
        actor = (
            User.objects.filter(email__iexact=email).first()
            if email
            else User.objects.filter(role=Role.SUPER_ADMIN, is_active=True).order_by("id").first()
        )
        if actor is None:
            raise CommandError("No such user: name a super admin or manager with --as (or create a super admin).")
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        rows = max(data.count(b"\n") - 1, 0)
        bar = tqdm(total=rows, unit="row", desc="import", disable=not sys.stderr.isatty())

        def progress(rows: int) -> None:
            bar.update(rows)

        try:
            report = catalogue_import(actor=actor, data=data, dry_run=dry_run, progress=progress)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        finally:
            bar.close()
        for error in report.errors:
            self.stderr.write(f"row {error.row}, {error.column or 'row'}: {error.reason}")
        if report.errors:
            raise CommandError(f"{len(report.errors)} error(s) in {report.rows} rows: nothing was written.")
        verb = "Checked" if dry_run else "Imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {report.rows} rows: universities {report.universities_created} new, "
                f"{report.universities_updated} updated; courses {report.courses_created} new, "
                f"{report.courses_updated} updated."
            )
        )
