"""A conversation's messages: the history page (one prepared statement), catching up after a seq,
and the files of a list of messages. Whether the caller may read the conversation is `access`'s
rule; `messages_page_for` checks membership inside its one statement."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from django.db.models import Q

from accounts.models import User
from core.db import BIGINT_MAX, prepared_cursor
from messaging.models import Attachment, Conversation, Message, MessageType, Participant
from messaging.selectors.access import id_or_404

FILE_TYPES = (MessageType.IMAGE, MessageType.VIDEO, MessageType.FILE)  # the messages that carry files


class SenderRow(NamedTuple):
    id: int
    email: str
    first_name: str
    last_name: str
    role: str
    office_id: int | None


class FileRow(NamedTuple):
    id: int
    file_name: str
    mime_type: str
    size: int
    width: int | None
    height: int | None


class MessageRow(NamedTuple):
    """A message as a history page reads it: the attributes `events.message_payload` uses,
    without building model instances (two per message) on the hottest read."""

    id: int
    conversation_id: int
    seq: int
    sender_id: int | None
    type: str
    content: str
    reply_to_id: int | None
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    sender: SenderRow | None
    loaded_attachments: list[FileRow]


_PAGE_COLUMNS = """
    m.id, m.conversation_id, m.seq, m.sender_id, m.type, m.content, m.reply_to_id, m.created_at, m.edited_at,
    m.deleted_at, u.id, u.email, u.first_name, u.last_name, u.role, u.office_id,
    CASE WHEN m.type IN ('image', 'video', 'file') THEN (
        SELECT json_agg(json_build_array(a.id, a.file_name, a.mime_type, a.size, a.width, a.height) ORDER BY a.id)
        FROM messaging_attachment a WHERE a.message_id = m.id
    ) END"""
_PAGE_FROM = "messaging_message m LEFT JOIN accounts_user u ON u.id = m.sender_id"
# Keyset on the (conversation_id, seq) unique index, never OFFSET: the 10,000th page costs what the first does.
_PAGE_WHERE = {
    "after": ("m.seq > %(seq)s", "ASC"),
    "before": ("m.seq < %(seq)s", "DESC"),
    "latest": ("true", "DESC"),
}
_PAGE_SQL = {
    key: f"SELECT {_PAGE_COLUMNS} FROM {_PAGE_FROM} WHERE m.conversation_id = %(conversation)s AND {where} "
    f"ORDER BY m.seq {order} LIMIT %(limit)s"
    for key, (where, order) in _PAGE_WHERE.items()
}
# The same page, with the caller's membership checked in the same round trip: one row with
# member = false when they are not a participant, else the page's rows (or one empty row). The
# messages up to their `cleared_seq` ("clear my history") are not theirs to read any more.
_MEMBER_PAGE_SQL = {
    key: f"SELECT member.ok, page.* FROM ("
    f"SELECT count(*) > 0, coalesce(max(cleared_seq), 0) FROM messaging_participant "
    f"WHERE conversation_id = %(conversation)s AND user_id = %(user)s) member (ok, cleared) "
    f"LEFT JOIN LATERAL (SELECT {_PAGE_COLUMNS} FROM {_PAGE_FROM} WHERE member.ok "
    f"AND m.conversation_id = %(conversation)s AND m.seq > member.cleared AND {where} "
    f"ORDER BY m.seq {order} LIMIT %(limit)s) page ON true "
    f"ORDER BY page.seq {order}"
    for key, (where, order) in _PAGE_WHERE.items()
}


def _page_query(before: int | None, after: int | None) -> tuple[str, int | None]:
    if after is not None:
        return "after", min(after, BIGINT_MAX)
    if before is not None:
        return "before", min(before, BIGINT_MAX)
    return "latest", None


def _message_rows(rows: list[tuple[Any, ...]]) -> list[MessageRow]:
    senders: dict[int, SenderRow] = {}
    messages = []
    for (
        id,
        conversation_id,
        seq,
        sender_id,
        type,
        content,
        reply_to_id,
        created_at,
        edited_at,
        deleted_at,
        user_id,
        email,
        first_name,
        last_name,
        role,
        office_id,
        files,
    ) in rows:
        sender = None
        if user_id is not None:
            sender = senders.get(user_id)
            if sender is None:
                sender = senders[user_id] = SenderRow(user_id, email, first_name, last_name, role, office_id)
        messages.append(
            MessageRow(
                id,
                conversation_id,
                seq,
                sender_id,
                type,
                content,
                reply_to_id,
                created_at,
                edited_at,
                deleted_at,
                sender,
                [FileRow(*f) for f in files] if files else [],
            )
        )
    return messages


def _page(rows: list[tuple[Any, ...]], key: str, limit: int) -> tuple[list[MessageRow], bool]:
    more = len(rows) > limit
    rows = rows[:limit]
    if key != "after":
        rows.reverse()  # fetched newest first; pages read oldest first
    return _message_rows(rows), more


def messages_page(
    conversation: Conversation, *, before: int | None = None, after: int | None = None, limit: int = 50
) -> tuple[list[MessageRow], bool]:
    """A page of messages by `seq` (keyset, never OFFSET), oldest first, and whether more exist.

    `after`: the messages following that seq (catching up after a reconnect).
    `before` (or neither): the newest messages before that seq (scrolling back).
    One query: senders joined, files (only image, video and file messages carry any) aggregated.
    """
    key, seq = _page_query(before, after)
    with prepared_cursor() as cursor:
        cursor.execute(_PAGE_SQL[key], {"conversation": conversation.pk, "seq": seq, "limit": limit + 1})
        rows = cursor.fetchall()
    return _page(rows, key, limit)


def messages_page_for(
    user: User, conversation_id: Any, *, before: int | None = None, after: int | None = None, limit: int = 50
) -> tuple[list[MessageRow], bool] | None:
    """`messages_page` of a conversation the user takes part in, membership checked in the same
    query; None when they are not (or no longer) a participant: the caller then tries monitoring."""
    conversation_id = id_or_404(conversation_id)
    if not user.is_active:
        return None
    key, seq = _page_query(before, after)
    with prepared_cursor() as cursor:
        cursor.execute(
            _MEMBER_PAGE_SQL[key], {"conversation": conversation_id, "user": user.pk, "seq": seq, "limit": limit + 1}
        )
        rows = cursor.fetchall()
    if not rows[0][0]:
        return None
    return _page([row[1:] for row in rows if row[1] is not None], key, limit)


M = TypeVar("M", bound=Message)


def load_attachments(messages: list[M]) -> list[M]:
    """The files of these messages in one query, or none when no message carries files (only
    image, video and file messages do). Cheaper than prefetch_related on hot pages."""
    ids = [m.id for m in messages if m.type in FILE_TYPES]
    files = defaultdict(list)
    if ids:
        for attachment in Attachment.objects.filter(message_id__in=ids).order_by("id"):
            files[attachment.message_id].append(attachment)
    for message in messages:
        message.loaded_attachments = files.get(message.id, [])
    return messages


def messages_between(conversation_id: int, *, after: int, up_to: int) -> list[Message]:
    """The messages with `after` < seq <= `up_to`, in order, senders and files loaded (a gap a
    socket waits for)."""
    return load_attachments(
        list(
            Message.objects.filter(conversation_id=conversation_id, seq__gt=after, seq__lte=up_to)
            .select_related("sender")
            .order_by("seq")
        )
    )


def messages_sent_since(moment: datetime) -> int:
    """How many messages were sent since `moment` (all conversations: a statistic for staff)."""
    return Message.objects.filter(created_at__gte=moment).count()


def messages_after(positions: dict[int, int], *, limit: int) -> list[tuple[Message, list[int]]]:
    """The messages after each conversation's seq in `positions` (at most `limit` in all, oldest
    first), each with the conversation's participants: what a process's sockets missed."""
    if not positions:
        return []
    after = Q()
    for conversation_id, seq in positions.items():
        after |= Q(conversation_id=conversation_id, seq__gt=seq)
    rows = load_attachments(
        list(Message.objects.filter(after).select_related("sender").order_by("conversation_id", "seq")[:limit])
    )
    members = defaultdict(list)
    for conversation_id, user_id in Participant.objects.filter(
        conversation_id__in={m.conversation_id for m in rows}
    ).values_list("conversation_id", "user_id"):
        members[conversation_id].append(user_id)
    return [(message, members[message.conversation_id]) for message in rows]
