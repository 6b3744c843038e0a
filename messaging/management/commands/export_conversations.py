"""Export conversations an ops person may monitor, by office and date range, as CSV or JSON lines."""

import sys
from contextlib import nullcontext
from datetime import UTC, date, datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from accounts.selectors import user_with_email
from messaging import selectors, services
from messaging.exports import conversation_export
from messaging.models import AuditAction


def _day(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - only the date is kept
    except ValueError as exc:
        raise CommandError(f"Dates look like 2026-01-31, not {value!r}.") from exc


class Command(BaseCommand):
    help = (
        "Export the conversations that the given manager or super admin may monitor (their office, or all), "
        "with activity in the date range, as CSV (one file, a conversation after another) or JSON lines. "
        "Each export is audited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as", dest="actor", required=True, help="email of the manager or super admin exporting")
        parser.add_argument("--office", type=int, help="office id (managers: their own)")
        parser.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD")
        parser.add_argument("--format", choices=["csv", "json"], default="json")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(
        self,
        *args: Any,
        actor: str,
        office: int | None,
        date_from: str | None,
        date_to: str | None,
        format: str,
        output: str | None,
        **options: Any,
    ) -> None:
        user = user_with_email(actor).filter(is_active=True).first()
        if user is None or not selectors.monitors_conversations(user):
            raise CommandError("--as must name an active manager or super admin.")
        if office and not selectors.monitors_office(user, office):
            raise CommandError("Office not found.")
        chosen = selectors.monitoring_list(user, office_id=office)
        if date_from:
            chosen = chosen.filter(last_activity_at__gte=datetime.combine(_day(date_from), time.min, UTC))
        if date_to:
            chosen = chosen.filter(created_at__lt=datetime.combine(_day(date_to), time.max, UTC))
        conversations = list(chosen)
        with open(output, "w", encoding="utf-8", newline="") if output else nullcontext(sys.stdout) as out:
            for conversation in tqdm(
                conversations, desc="conversations", unit="conv", file=sys.stderr, disable=not output
            ):
                services.monitoring_audit_record(
                    actor=user,
                    action=AuditAction.EXPORT,
                    conversation=conversation,
                    details={"format": format, "via": "export_conversations"},
                )
                if format == "csv":
                    for n, line in enumerate(conversation_export(conversation, format="csv")):
                        if n == 0:
                            out.write(f"# conversation {conversation.id}\n")
                        out.write(line)
                else:
                    out.write("".join(conversation_export(conversation, format="json")) + "\n")
        self.stderr.write(f"Exported {len(conversations)} conversation(s).")
