"""Clear the content and files of messages deleted longer ago than the retention period."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from tqdm import tqdm

from messaging.services.retention import deleted_messages_due, deleted_messages_purge


class Command(BaseCommand):
    help = (
        "Soft-deleted messages keep their content for audit; after MESSAGE_DELETED_RETENTION_DAYS (or --days) "
        "their content is cleared and their files removed. The rows stay, so seq numbers and receipts stay whole. "
        "`apply_retention` runs this with every other retention rule."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=settings.MESSAGE_DELETED_RETENTION_DAYS)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, days: int, dry_run: bool, **options: Any) -> None:
        cutoff = timezone.now() - timedelta(days=days)
        if dry_run:
            self.stdout.write(f"{len(deleted_messages_due(before=cutoff))} message(s) would be purged.")
            return
        with tqdm(desc="purging", unit="message", disable=None) as bar:  # disable=None: only on a terminal
            purged = deleted_messages_purge(before=cutoff, on_batch=bar.update)
        self.stdout.write(self.style.SUCCESS(f"Purged {purged} message(s) deleted before {cutoff:%Y-%m-%d}."))
