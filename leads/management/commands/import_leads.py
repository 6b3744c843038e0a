"""Import leads from a CSV file through the same service as the API (row errors reported)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import user_with_email
from core.errors import ApplicationError
from leads.imports import IMPORT_COLUMNS, leads_import_csv
from offices.selectors import office_list_for


class Command(BaseCommand):
    help = f"Import leads from a UTF-8 CSV with columns {', '.join(IMPORT_COLUMNS)}. Rows already known are skipped."

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file")
        parser.add_argument(
            "--as", dest="actor", required=True, help="email of the staff member importing (their rules apply)"
        )
        parser.add_argument("--office", help="office name (super admins only; others import into their own)")

    def handle(self, *args, path, actor, office=None, **options):
        user = user_with_email(actor).filter(is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {actor}.")
        target = None
        if office:
            target = office_list_for(user).filter(name=office).first()  # another's office: as if there were none
            if target is None:
                raise CommandError(f"No office named {office}.")
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        try:
            report = leads_import_csv(actor=user, data=data, office=target)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"created {report['created']}, skipped {report['skipped']} already known, "
            f"{len(report['errors'])} rows with errors"
        )
        for error in report["errors"]:
            self.stdout.write(f"  row {error['row']}: {'; '.join(error['errors'])}")
        if report["errors"] and not report["created"]:
            raise CommandError("Nothing imported.")
