"""A person's messages and conversations in their export and erasure; how long deleted messages and the
monitoring audit are kept (core.privacy)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum

from accounts.models import User
from core.privacy import Area, AreaExport, Erasure, ExportFile, RetentionRule, register_area, register_retention
from core.realtime import members_group, publish_on_commit
from core.uploads import sanitize_file_name
from messaging import events
from messaging.models import Attachment, Conversation, Message, MissedMessageMark, MonitoringAudit, Participant
from messaging.selectors import participant_user_ids
from messaging.services.retention import deleted_messages_purge

# Bytes a message row takes in the export's JSON, roughly: to tell a large export from a small one.
EXPORT_BYTES_PER_MESSAGE = 300


def _name(user: User | None) -> str | None:
    return user.full_name if user else None


def export(person: User) -> AreaExport:
    files: list[ExportFile] = []
    attachments: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for attachment in Attachment.objects.filter(message__sender=person).order_by("id"):
        path = f"messages/{attachment.pk}-{sanitize_file_name(attachment.file_name)}"
        files.append(ExportFile(path=path, storage_key=attachment.file_key))
        assert attachment.message_id is not None  # (filtered on its message)
        attachments[attachment.message_id].append(
            {
                "file": path,
                "file_name": attachment.file_name,
                "mime_type": attachment.mime_type,
                "size": attachment.size,
            }
        )
    written = [
        {
            "conversation_id": m.conversation_id,
            "seq": m.seq,
            "type": m.type,
            "content": m.content,
            "created_at": m.created_at,
            "edited_at": m.edited_at,
            "deleted_at": m.deleted_at,
            "attachments": attachments.get(m.pk, []),
        }
        for m in Message.objects.filter(sender=person).order_by("conversation_id", "seq").iterator(chunk_size=2000)
    ]
    conversations = []
    memberships = Participant.objects.filter(user=person).select_related("conversation").order_by("conversation_id")
    for membership in memberships:
        conversation = membership.conversation
        people = Participant.objects.filter(conversation=conversation).select_related("user").order_by("id")
        seen = (
            Message.objects.filter(conversation=conversation, seq__gt=membership.cleared_seq)
            .select_related("sender")
            .order_by("seq")
        )
        conversations.append(
            {
                "id": conversation.pk,
                "type": conversation.type,
                "title": conversation.title,
                "joined_at": membership.joined_at,
                "participants": [p.user.full_name for p in people],
                "messages": [
                    {
                        "seq": m.seq,
                        "from": _name(m.sender),
                        "type": m.type,
                        "content": "" if m.deleted_at else m.content,
                        "deleted": m.deleted_at is not None,
                        "created_at": m.created_at,
                    }
                    for m in seen.iterator(chunk_size=2000)
                ],
            }
        )
    return AreaExport({"messages_written": written, "conversations": conversations}, files)


def export_bytes(person: User) -> int:
    files = Attachment.objects.filter(message__sender=person).aggregate(total=Sum("size"))["total"] or 0
    rows = Message.objects.filter(conversation__participants__user=person).count()
    return files + rows * EXPORT_BYTES_PER_MESSAGE


def _announce_removed(message_ids: list[int]) -> None:
    members: dict[int, list[int]] = {}
    sends = []
    for message in Message.objects.filter(id__in=message_ids).select_related("sender").order_by("id"):
        if message.conversation_id not in members:
            members[message.conversation_id] = participant_user_ids(message.conversation_id)
        message.loaded_attachments = []
        event = events.message_event(events.MESSAGE_DELETED, message, members[message.conversation_id])
        sends.append((members_group(message.conversation_id), event))
    publish_on_commit(sends)  # (outside a transaction: at once)


def erase(erasure: Erasure) -> None:
    """The text and files of every message the person wrote go; the rows stay, marked deleted, so each
    conversation keeps every `seq` (no hole for clients catching up with `after=<seq>`). Members' open
    sockets hear `message_deleted` for each message that was still showing."""
    person: User = erasure.person
    attachments = Attachment.objects.filter(Q(message__sender=person) | Q(uploaded_by=person))
    for file_key, thumbnail_key in attachments.values_list("file_key", "thumbnail_key"):
        erasure.delete_file(file_key)
        erasure.delete_file(thumbnail_key)
    erasure.count("message files removed", attachments.delete()[0])
    mine = Message.objects.filter(sender=person)
    showing = list(mine.filter(deleted_at__isnull=True).values_list("id", flat=True))
    mine.filter(deleted_at__isnull=True).update(deleted_at=erasure.at, deleted_by=erasure.actor)
    erasure.count("messages removed", mine.update(content=""))
    MissedMessageMark.objects.filter(user=person).delete()
    # Built after commit, when the sender shows under the pseudonymised name the erasure gives them.
    transaction.on_commit(lambda: _announce_removed(showing))
    pattern = erasure.pattern()
    if pattern is not None:  # a group named after the person
        for conversation in Conversation.objects.filter(title__iregex=pattern.pattern).only("id", "title"):
            conversation.title = erasure.scrub(conversation.title)
            conversation.save(update_fields=["title"])
            erasure.count("conversation titles", 1)


register_area(
    Area(
        name="messages",
        description=(
            "messages_written: every message you wrote, in every conversation, with the files you sent (in the "
            "messages/ folder). conversations: each conversation you are in, with its people and every message "
            "you could see in it (what you cleared from your own history is left out; deleted messages show "
            "no content)."
        ),
        export=export,
        erase=erase,
        export_bytes=export_bytes,
        covers={
            "messaging.Message.sender": "messages the person wrote: exported; on erasure text and files removed, "
            "the row kept as deleted so the conversation's seq has no hole",
            "messaging.Attachment.uploaded_by": "files the person sent: exported; deleted on erasure",
            "messaging.Participant.user": "the person's conversations: exported with what they could see; the "
            "membership stays (histories whole), the person shown under the pseudonymised name",
            "messaging.MissedMessageMark.user": "how far missed-message emails went (bookkeeping, not exported): "
            "deleted on erasure",
        },
        kept={
            "messaging.Message.deleted_by": "who deleted a message: the moderation record",
            "messaging.Conversation.created_by": "who started a conversation others are in",
            "messaging.MonitoringAudit.actor": "the monitoring audit (who read whose conversation), kept for "
            "AUDIT_RETENTION_DAYS; the reader's name comes from the pseudonymised user row",
        },
    )
)


def _deleted_messages(now: datetime) -> int:
    return deleted_messages_purge(before=now - timedelta(days=settings.MESSAGE_DELETED_RETENTION_DAYS))


def _monitoring_audit(now: datetime) -> int:
    days = settings.AUDIT_RETENTION_DAYS
    if days <= 0:
        return 0
    return MonitoringAudit.objects.filter(created_at__lt=now - timedelta(days=days)).delete()[0]


register_retention(
    RetentionRule(
        name="deleted messages",
        setting="MESSAGE_DELETED_RETENTION_DAYS",
        description="A deleted message keeps its content for moderation this many days; then its text and files "
        "are removed (the row stays, so seq numbers stay whole).",
        apply=_deleted_messages,
    )
)
register_retention(
    RetentionRule(
        name="monitoring audit",
        setting="AUDIT_RETENTION_DAYS",
        description="Entries of the monitoring audit (who read or exported a conversation they are not in) older "
        "than this many days are deleted. 0 keeps them.",
        apply=_monitoring_audit,
    )
)
