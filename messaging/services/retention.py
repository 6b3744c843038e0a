"""Deleted messages' content kept for moderation, then cleared (`purge_deleted_messages`, `apply_retention`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from django.core.files.storage import default_storage
from django.db import transaction

from messaging.models import Attachment, Message

BATCH = 500


def _delete_files(keys: list[str]) -> None:
    for key in keys:
        default_storage.delete(key)


def deleted_messages_due(*, before: datetime) -> list[int]:
    """Messages deleted before `before` that still hold text or files."""
    due = Message.objects.filter(deleted_at__lt=before).exclude(content="", attachments__isnull=True)
    return list(due.values_list("id", flat=True).distinct().order_by("id"))


def deleted_messages_purge(*, before: datetime, on_batch: Callable[[int], object] | None = None) -> int:
    """Clear the text and remove the files of messages deleted before `before`, in batches of 500 (each its
    own transaction; files deleted once it commits). The rows stay, so seq numbers and receipts stay whole."""
    ids = deleted_messages_due(before=before)
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        with transaction.atomic():
            files = list(Attachment.objects.filter(message_id__in=batch).values_list("file_key", "thumbnail_key"))
            Attachment.objects.filter(message_id__in=batch).delete()
            Message.objects.filter(id__in=batch).update(content="")
            keys = [key for pair in files for key in pair if key]
            transaction.on_commit(partial(_delete_files, keys))
        if on_batch is not None:
            on_batch(len(batch))
    return len(ids)
