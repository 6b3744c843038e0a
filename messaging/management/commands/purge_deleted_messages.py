"""Clear the content and files of messages deleted longer ago than the retention period."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from messaging.models import Attachment, Message


class Command(BaseCommand):
    help = (
        "Soft-deleted messages keep their content for audit; after MESSAGE_DELETED_RETENTION_DAYS (or --days) "
        "their content is cleared and their files removed. The rows stay, so seq numbers and receipts stay whole."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=settings.MESSAGE_DELETED_RETENTION_DAYS)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, days: int, dry_run: bool, **options: Any) -> None:
        cutoff = timezone.now() - timedelta(days=days)
        due = Message.objects.filter(deleted_at__lt=cutoff).exclude(content="", attachments__isnull=True)
        ids = list(due.values_list("id", flat=True).distinct())
        if dry_run:
            self.stdout.write(f"{len(ids)} message(s) would be purged.")
            return
        for start in tqdm(range(0, len(ids), 500), desc="purging", unit="batch", disable=len(ids) <= 500):
            batch = ids[start : start + 500]
            with transaction.atomic():
                files = list(Attachment.objects.filter(message_id__in=batch).values_list("file_key", "thumbnail_key"))
                Attachment.objects.filter(message_id__in=batch).delete()
                Message.objects.filter(id__in=batch).update(content="")
            for keys in files:
                for key in keys:
                    if key:
                        default_storage.delete(key)
        self.stdout.write(self.style.SUCCESS(f"Purged {len(ids)} message(s) deleted before {cutoff:%Y-%m-%d}."))
