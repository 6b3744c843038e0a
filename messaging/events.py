"""The one representation of messages and conversations, for REST and socket events alike.

Each `*_payload` has a serializer in `messaging.api.serializers` describing it for OpenAPI;
messaging/tests/test_payload_contract.py checks real payloads against those descriptions (the
same field names, types and nullability), so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, overload

from django.urls import reverse

from core.realtime import conversation_message
from messaging import search
from messaging.models import Attachment, Conversation, Message, MonitoringAudit, Participant

if TYPE_CHECKING:
    from accounts.models import User
    from messaging.search import SearchHit
    from messaging.selectors.history import FileRow, MessageRow, SenderRow

Payload = dict[str, Any]

# Server → client event names (spec section 4).
MESSAGE_RECEIVED = "message_received"
MESSAGE_EDITED = "message_edited"
MESSAGE_DELETED = "message_deleted"
MESSAGE_DELIVERED = "message_delivered"
MESSAGE_READ = "message_read"
CONVERSATION_CREATED = "conversation_created"
CONVERSATION_UPDATED = "conversation_updated"
USER_JOINED_CONVERSATION = "user_joined_conversation"
USER_LEFT_CONVERSATION = "user_left_conversation"
CONVERSATION_CLEARED = "conversation_cleared"  # to the user's own sockets: their history was cleared


@overload
def user_payload(user: User | SenderRow) -> Payload: ...
@overload
def user_payload(user: None) -> None: ...
def user_payload(user: User | SenderRow | None) -> Payload | None:
    if user is None:
        return None
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "office_id": user.office_id,
    }


def attachment_payload(attachment: Attachment | FileRow) -> Payload:
    return {
        "id": attachment.id,
        "file_name": attachment.file_name,
        "mime_type": attachment.mime_type,
        "size": attachment.size,
        "width": attachment.width,
        "height": attachment.height,
        "url": reverse("attachment-download", args=[attachment.id]),
    }


def message_payload(message: Message | MessageRow, *, users: dict[int | None, Payload | None] | None = None) -> Payload:
    """Needs `sender` selected, and files loaded (`selectors.load_attachments` or a prefetch),
    to stay a fixed number of queries per page. A page passes one `users` dict for all its
    messages, so each sender's payload is built once."""
    deleted = message.deleted_at is not None
    files = getattr(message, "loaded_attachments", None)
    if files is None:  # (a MessageRow always carries its files)
        files = message.attachments.all()  # type: ignore[union-attr]
    if users is None:
        sender = user_payload(message.sender)
    else:
        sender = users.get(message.sender_id)
        if sender is None and message.sender_id is not None:
            sender = users[message.sender_id] = user_payload(message.sender)
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "sender_id": message.sender_id,
        "sender": sender,
        "type": message.type,
        "content": "" if deleted else message.content,
        "reply_to_id": message.reply_to_id,
        "attachments": [attachment_payload(a) for a in files] if files and not deleted else [],
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": deleted,
    }


def sent_message_payload(
    *,
    message_id: int,
    conversation_id: int,
    seq: int,
    sender: User,
    type: str,
    content: str,
    reply_to_id: int | None,
    created_at: datetime,
) -> Payload:
    """`message_payload` of a message just sent, from the values the send stored (no model instance:
    the socket's send builds its event and ack from the database function's row). No files (the
    socket sends none), not edited, not deleted; test_payload_contract keeps it equal to
    `message_payload` of the stored row."""
    return {
        "id": message_id,
        "conversation_id": conversation_id,
        "seq": seq,
        "sender_id": sender.pk,
        "sender": user_payload(sender),
        "type": type,
        "content": content,
        "reply_to_id": reply_to_id,
        "attachments": [],
        "created_at": created_at.isoformat(),
        "edited_at": None,
        "deleted": False,
    }


def message_event(event: str, message: Message, member_ids: Iterable[int]) -> dict[str, Any]:
    """A message's event as the members group carries it: for its participants and read-only
    monitors; `seq` on `message_received` only, the event sockets push in order."""
    return payload_event(event, message_payload(message), member_ids)


def payload_event(event: str, payload: Payload, member_ids: Iterable[int]) -> dict[str, Any]:
    """`message_event` from the message's payload."""
    return conversation_message(
        payload["conversation_id"],
        member_ids,
        event,
        payload,
        monitors=True,
        seq=payload["seq"] if event == MESSAGE_RECEIVED else None,
        sender_id=payload["sender_id"],
    )


def participant_payload(participant: Participant) -> Payload:
    """A person of a conversation, with their place in it (`ParticipantSerializer`)."""
    return {
        **user_payload(participant.user),
        "conversation_role": participant.role,
        "joined_at": participant.joined_at,
        "last_read_seq": participant.last_read_seq,
        "last_delivered_seq": participant.last_delivered_seq,
    }


def search_hit_payload(message: SearchHit) -> Payload:
    """A message found by `search.message_search`, with its rank and highlighted snippet."""
    return {**message_payload(message), "rank": message.rank, "highlight": search.highlight(message.snippet)}


def audit_payload(audit: MonitoringAudit) -> Payload:
    return {
        "id": audit.id,
        "actor_id": audit.actor_id,
        "action": audit.action,
        "conversation_id": audit.conversation_id,
        "office_id": audit.office_id,
        "details": audit.details,
        "created_at": audit.created_at,
    }


def _triage_fields(me: Participant | None) -> Payload:
    """The member's triage as it stands now (`triage`, annotated by the selectors), else as stored."""
    status = getattr(me, "triage", None) or (me.triage_status if me else "open")
    until = me.snoozed_until if me is not None and status == "snoozed" else None
    return {"status": status, "snoozed_until": until.isoformat() if until else None}


def conversation_payload(
    conversation: Conversation, *, participants: Iterable[Participant], me: Participant | None = None
) -> Payload:
    """`me` is the caller's Participant row (unread count and flags), when they are one."""
    last = conversation.last_message
    if last is not None and me is not None and last.seq <= me.cleared_seq:
        last = None  # the caller cleared their history past it
    # Lists carry the count annotated in SQL; a single conversation derives it from the same pointers.
    unread = getattr(me, "unread_count", None)
    if unread is None:
        unread = max(conversation.last_seq - me.last_read_seq, 0) if me else 0
    return {
        "id": conversation.id,
        "type": conversation.type,
        "title": conversation.title,
        "office_id": conversation.office_id,
        "lead_id": conversation.lead_id,
        "participants": [user_payload(p.user) for p in participants],
        "last_message": message_payload(last) if last is not None else None,
        "last_seq": conversation.last_seq,
        "unread_count": unread,
        "is_archived": me.is_archived if me else False,
        "is_pinned": me.is_pinned if me else False,
        "muted_until": me.muted_until.isoformat() if me and me.muted_until else None,
        **_triage_fields(me),
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.last_activity_at.isoformat(),
    }
