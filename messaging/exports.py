"""A conversation as a file, for the export endpoint and the `export_conversations` command: CSV
(one row per message) or JSON (the conversation with its participants and messages, in the REST
representation). Streamed from a server-side iterator in chunks of 500 rows, so a long history
never sits in memory. Deleted messages are left out; a participant's cleared history too."""

from __future__ import annotations

import json
from collections.abc import Iterator

from core.exports import csv_lines, csv_safe
from messaging import events
from messaging.models import Conversation, Message, Participant

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}  # format → content type
CSV_HEADER = ["seq", "created_at", "sender_email", "type", "content", "attachments", "edited_at"]


def _rows(conversation: Conversation, after_seq: int) -> Iterator[Message]:
    return (
        Message.objects.filter(conversation=conversation, deleted_at__isnull=True, seq__gt=after_seq)
        .select_related("sender")
        .prefetch_related("attachments")
        .order_by("seq")
        .iterator(chunk_size=500)
    )


def _csv(conversation: Conversation, after_seq: int) -> Iterator[str]:
    return csv_lines(
        CSV_HEADER,
        (
            [
                message.seq,
                message.created_at.isoformat(),
                message.sender.email if message.sender else "",
                message.type,
                csv_safe(message.content),
                ";".join(a.file_name for a in message.attachments.all()),
                message.edited_at.isoformat() if message.edited_at else "",
            ]
            for message in _rows(conversation, after_seq)
        ),
    )


def _json(conversation: Conversation, after_seq: int) -> Iterator[str]:
    people = Participant.objects.filter(conversation=conversation).select_related("user")
    head = {
        "conversation_id": conversation.id,
        "type": conversation.type,
        "title": conversation.title,
        "participants": [events.user_payload(p.user) for p in people],
    }
    yield json.dumps(head)[:-1] + ', "messages": ['
    first = True
    for message in _rows(conversation, after_seq):
        yield ("" if first else ",") + json.dumps(events.message_payload(message))
        first = False
    yield "]}"


def conversation_export(conversation: Conversation, *, format: str, reader: Participant | None = None) -> Iterator[str]:
    """The conversation as `format` (csv or json), in chunks of text. `reader`: the exporting
    participant's membership, whose cleared history stays hidden (None for a monitor: all of it)."""
    after_seq = reader.cleared_seq if reader is not None else 0
    return (_csv if format == "csv" else _json)(conversation, after_seq)
