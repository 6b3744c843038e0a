"""Writes on messages: send (with or without files), edit, delete.

A send's input shape (ids, text, type, client_id) is checked once, by the serializers every
door uses (`messaging.api.serializers.MessageSendSerializer`, REST and socket alike); the rules
here are the content's (length, NUL, profanity), membership and the reply (in the database
function, under the conversation's lock), and idempotency by `client_id`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Required, TypedDict, Unpack

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from core.db import BIGINT_MAX, prepared_cursor
from core.errors import Forbidden, NotFound, UploadErrorCode, ValidationFailed
from core.realtime import members_group, publish_on_commit
from core.uploads import check_upload, store_upload
from messaging import events, offline
from messaging.errors import MessagingErrorCode
from messaging.models import Attachment, Conversation, Message, MessageType, Participant
from messaging.search import HIGHLIGHT_START, HIGHLIGHT_STOP
from messaging.selectors import conversation_can_monitor, participant_user_ids


@lru_cache(maxsize=8)
def _profanity_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


def content_clean(content: str) -> str:
    """A message's text as stored: trimmed, at most MESSAGE_MAX_LENGTH characters, no NUL, no search
    markers, and profanity masked or refused (word boundaries; PROFANITY_MODE)."""
    content = content.strip()
    if len(content) > settings.MESSAGE_MAX_LENGTH:
        raise ValidationFailed(
            f"A message holds at most {settings.MESSAGE_MAX_LENGTH} characters.",
            code=MessagingErrorCode.MESSAGE_TOO_LONG,
            details={"max_length": settings.MESSAGE_MAX_LENGTH},
        )
    if "\x00" in content:
        raise ValidationFailed(
            "Message content cannot contain NUL characters.", code=MessagingErrorCode.INVALID_CONTENT
        )
    content = content.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_STOP, "")  # reserved for search snippets
    mode = settings.PROFANITY_MODE
    pattern = _profanity_pattern(tuple(w.lower() for w in settings.PROFANITY_WORDS)) if mode != "off" else None
    if pattern is None or not pattern.search(content):
        return content
    if mode == "reject":
        raise ValidationFailed("Please keep the conversation polite.", code=MessagingErrorCode.PROFANITY)
    return pattern.sub(lambda match: "*" * len(match.group(0)), content)


def _broadcast_message(event: str, message: Message, member_ids: list[int] | None = None) -> None:
    """Once to the conversation's members group (participants and read-only monitors)."""
    if member_ids is None:
        member_ids = participant_user_ids(message.conversation_id)
    publish_on_commit([(members_group(message.conversation_id), events.message_event(event, message, member_ids))])


def _existing_send(sender: User, client_id: str, conversation: Conversation) -> Message | None:
    message = Message.objects.select_related("sender").filter(sender=sender, client_id=client_id).first()
    if message is None:
        return None
    if message.conversation_id != conversation.pk:
        raise ValidationFailed(
            "This client_id was already used in another conversation.", code=MessagingErrorCode.CLIENT_ID_REUSED
        )
    if not Participant.objects.filter(conversation_id=conversation.pk, user=sender).exists():
        raise NotFound("Conversation not found.")  # a former participant learns nothing, not even their old message
    return message


class SendFields(TypedDict, total=False):
    """A send as its callers give it (keywords of `message_send` and `amessage_send`), declared once."""

    sender: Required[User]
    conversation: Conversation  # only its pk is used; or, with no instance at hand:
    conversation_id: int  # (the socket's send: an instance per send was ~13 µs of its CPU)
    content: str
    type: str
    reply_to_id: int | None
    client_id: str | None


class SendWithFilesFields(SendFields, total=False):
    attachment_ids: Iterable[int]  # the sender's uploads, not yet sent (`message_send` only)


@dataclass(frozen=True, slots=True)
class SendRequest:
    """One send, checked: what both sends run (Zulip's `SendMessageRequest`). Built by `send_request`
    (the shared checks), stored by the database function (`params` → one row), read back by
    `stored`; the sync and the event-loop send differ only in how they run the statement, the
    transaction around it and how the event leaves."""

    sender: User
    conversation_id: int
    content: str
    type: str
    reply_to_id: int | None
    client_id: str | None
    attachment_ids: tuple[int, ...]
    created_at: datetime

    def params(self) -> list[Any]:
        """`STORE_SQL`'s parameters."""
        return [
            self.conversation_id,
            self.sender.pk,
            self.type,
            self.content,
            self.reply_to_id,
            self.client_id,
            self.created_at,
        ]

    def stored(self, row: Any) -> tuple[Message, list[int]]:  # row: the function's one row, either driver
        """The message the database function stored (404 / 400 when it stored none), and who to push it to.

        `Message.save()` never runs for a send: no pre_save/post_save signals, no Python-side defaults
        (`created_at` is the request's). The stored row becomes a model instance the way the ORM
        reads one (`Message.from_db`)."""
        seq, message_id, member_ids = _checked_row(row)
        stored = {
            "id": message_id,
            "conversation_id": self.conversation_id,
            "seq": seq,
            "sender_id": self.sender.pk,
            "type": self.type,
            "content": self.content,
            "reply_to_id": self.reply_to_id,
            "client_id": self.client_id,
            "created_at": self.created_at,
            "edited_at": None,
            "deleted_at": None,
            "deleted_by_id": None,
        }
        message = Message.from_db(connection.alias, STORED_FIELDS, [stored[name] for name in STORED_FIELDS])
        message.sender = self.sender
        message.loaded_attachments = []
        return message, member_ids

    def sent(self, row: Any) -> tuple[events.Payload, list[int]]:
        """As `stored`, the message as its payload, with no model instance (the socket's send: the
        payload is all its event and its ack need)."""
        seq, message_id, member_ids = _checked_row(row)
        payload = events.sent_message_payload(
            message_id=message_id,
            conversation_id=self.conversation_id,
            seq=seq,
            sender=self.sender,
            type=self.type,
            content=self.content,
            reply_to_id=self.reply_to_id,
            created_at=self.created_at,
        )
        return payload, member_ids


def _checked_row(row: Any) -> tuple[int, int, list[int]]:
    """(seq, message id, member ids) of the database function's row; 404 / 400 when it stored nothing."""
    is_member, reply_ok, seq, message_id, member_ids = row
    if not is_member:
        raise NotFound("Conversation not found.")
    if not reply_ok:
        raise ValidationFailed(
            "You can only reply to a message of this conversation.", code=MessagingErrorCode.INVALID_REPLY_TO
        )
    return seq, message_id, member_ids


def send_request(fields: SendFields, attachment_ids: Iterable[int] = ()) -> SendRequest:
    """The checks every send runs first (the content as stored, the numbers known to fit), as one request."""
    attachment_ids = tuple(attachment_ids)
    conversation_id = fields["conversation_id"] if "conversation_id" in fields else fields["conversation"].pk
    reply_to_id = fields.get("reply_to_id")
    content = content_clean(fields.get("content", ""))
    if not content and not attachment_ids:
        raise ValidationFailed("A message needs content or files.", code=MessagingErrorCode.EMPTY_MESSAGE)
    if not 0 < conversation_id <= BIGINT_MAX:  # no such row; the database would refuse the number itself
        raise NotFound("Conversation not found.")
    if reply_to_id is not None and not 0 < reply_to_id <= BIGINT_MAX:
        raise ValidationFailed(
            "You can only reply to a message of this conversation.", code=MessagingErrorCode.INVALID_REPLY_TO
        )
    return SendRequest(
        sender=fields["sender"],
        conversation_id=conversation_id,
        content=content,
        type=fields.get("type", MessageType.TEXT),
        reply_to_id=reply_to_id,
        client_id=fields.get("client_id"),
        attachment_ids=attachment_ids,
        created_at=timezone.now(),
    )


def message_send(**fields: Unpack[SendWithFilesFields]) -> tuple[Message, bool]:
    """Store a message with the conversation's next `seq` and push it to every participant.

    Only `conversation.pk` is used: membership is checked under the conversation's row lock (a
    non-member gets 404). The same `(sender, client_id)` returns the first message (`created`
    False), also when two sends race: the unique constraint decides and the loser reads the
    winner's row. Stored by a database function, not `save()`: see `STORE_SQL`.
    """
    attachment_ids = fields.pop("attachment_ids", ())
    return request_send(send_request(fields, attachment_ids))


def request_send(request: SendRequest) -> tuple[Message, bool]:
    # A plain send is one statement and its own transaction; with files, or inside a caller's
    # transaction, it joins one (a savepoint, so a repeated client_id spoils nothing).
    joined = transaction.atomic() if request.attachment_ids or connection.in_atomic_block else nullcontext()
    try:  # optimistic: a repeated client_id is rare, so it costs nothing until the insert conflicts
        with joined:
            with prepared_cursor() as cursor:  # planned once per pooled connection, not on every send
                cursor.execute(STORE_SQL, request.params())
                message, member_ids = request.stored(cursor.fetchone())
            if request.attachment_ids:
                claimed = Attachment.objects.filter(
                    pk__in=request.attachment_ids, uploaded_by=request.sender, message__isnull=True
                ).update(message=message)
                if claimed != len(set(request.attachment_ids)):
                    raise ValidationFailed(
                        "Some files are unknown or already sent.", code=MessagingErrorCode.INVALID_ATTACHMENTS
                    )
                message.loaded_attachments = list(Attachment.objects.filter(message=message).order_by("id"))
            event = events.message_event(events.MESSAGE_RECEIVED, message, member_ids)
            publish_on_commit([(members_group(request.conversation_id), event)])
            transaction.on_commit(lambda: offline.note_sent(request.conversation_id))  # push to whoever is away
    except IntegrityError:
        existing = _first_of(request)
        if existing is None:
            raise
        return existing, False
    return message, True


def _first_of(request: SendRequest) -> Message | None:
    """The first message of this request's `(sender, client_id)`, when the store met it."""
    if request.client_id is None:
        return None
    return _existing_send(request.sender, request.client_id, Conversation(pk=request.conversation_id))


# The columns a send writes, in `Message`'s order; the database function writes the same ones
# (the newest messaging/sql/message_store_*.sql; test_message_store keeps the two equal to the model).
STORED_FIELDS = [field.attname for field in Message._meta.concrete_fields if not field.generated]

# The hot path of every send: one call of the database function `messaging_message_store`
# (the newest messaging/sql/message_store_*.sql), which locks the conversation, checks membership and
# the reply after the lock, takes the next `seq` and the message id, moves the sender's pointers, stores the
# message and lists the participants to push to. One round trip, the lock held briefly.
STORE_SQL = (
    "SELECT * FROM messaging_message_store(%s::bigint, %s::bigint, %s::text, %s::text, %s::bigint, %s::text, "
    "%s::timestamptz)"
)


def _own_message(actor: User, message: Message) -> None:
    if not Participant.objects.filter(conversation_id=message.conversation_id, user=actor).exists():
        raise NotFound("Message not found.")
    if message.sender_id != actor.pk:
        raise Forbidden("Only the sender can edit a message.", code=MessagingErrorCode.NOT_SENDER)


@transaction.atomic
def message_edit(*, actor: User, message: Message, content: str) -> Message:
    message = Message.objects.select_for_update(of=("self",)).select_related("sender").get(pk=message.pk)
    _own_message(actor, message)
    if message.deleted_at is not None:
        raise ValidationFailed("A deleted message cannot be edited.", code=MessagingErrorCode.MESSAGE_DELETED)
    if message.type == MessageType.SYSTEM:
        raise Forbidden("System messages cannot be edited.")
    limit = timedelta(milliseconds=settings.MESSAGE_EDIT_TIME_LIMIT)
    if timezone.now() - message.created_at > limit:
        raise Forbidden(
            "This message can no longer be edited.",
            code=MessagingErrorCode.EDIT_WINDOW_PASSED,
            details={"limit_ms": settings.MESSAGE_EDIT_TIME_LIMIT},
        )
    content = content_clean(content)
    if not content:
        raise ValidationFailed("A message needs content.", code=MessagingErrorCode.EMPTY_MESSAGE)
    message.content = content
    message.edited_at = timezone.now()
    message.save(update_fields=["content", "edited_at"])
    _broadcast_message(events.MESSAGE_EDITED, message)
    return message


@transaction.atomic
def message_delete(*, actor: User, message: Message) -> Message:
    """Soft delete by the sender, or by monitoring staff in scope. The row stays for audit."""
    message = (
        Message.objects.select_for_update(of=("self",)).select_related("sender", "conversation").get(pk=message.pk)
    )
    is_participant = Participant.objects.filter(conversation_id=message.conversation_id, user=actor).exists()
    may_moderate = conversation_can_monitor(actor, message.conversation)
    if not is_participant and not may_moderate:
        raise NotFound("Message not found.")
    if message.sender_id != actor.pk and not may_moderate:
        raise Forbidden("Only the sender can delete this message.", code=MessagingErrorCode.NOT_SENDER)
    if message.deleted_at is None:
        message.deleted_at = timezone.now()
        message.deleted_by = actor
        message.save(update_fields=["deleted_at", "deleted_by"])
        _broadcast_message(events.MESSAGE_DELETED, message)
    return message


def _message_type_for(mime_types: list[str]) -> str:
    if all(m.startswith("image/") for m in mime_types):
        return MessageType.IMAGE
    if all(m.startswith("video/") for m in mime_types):
        return MessageType.VIDEO
    return MessageType.FILE


class _DuplicateSend(Exception):
    def __init__(self, message: Message) -> None:
        self.message = message


def message_send_with_files(
    *,
    sender: User,
    conversation: Conversation,
    files: Sequence[UploadedFile],
    content: str = "",
    client_id: str | None = None,
) -> tuple[Message, bool]:
    """Check every file, store it under a random key, and send one message carrying them all."""
    if client_id:
        existing = _existing_send(sender, client_id, conversation)
        if existing is not None:
            return existing, False
    if not files or len(files) > settings.MAX_FILES_PER_MESSAGE:
        raise ValidationFailed(
            f"Attach 1 to {settings.MAX_FILES_PER_MESSAGE} files.", code=UploadErrorCode.TOO_MANY_FILES
        )
    checked = [check_upload(f) for f in files]  # everything is checked before anything is stored
    stored_keys: list[str] = []
    try:
        with transaction.atomic():
            attachments = []
            for item in checked:
                stored = store_upload(item, prefix=f"conversations/{conversation.pk}")
                stored_keys += [k for k in (stored.key, stored.thumbnail_key) if k]
                attachments.append(
                    Attachment(
                        uploaded_by=sender,
                        file_key=stored.key,
                        thumbnail_key=stored.thumbnail_key,
                        file_name=item.name,
                        mime_type=item.mime_type,
                        size=item.size,
                        width=item.width,
                        height=item.height,
                    )
                )
            Attachment.objects.bulk_create(attachments)
            message, created = message_send(
                sender=sender,
                conversation=conversation,
                content=content,
                client_id=client_id,
                type=_message_type_for([item.mime_type for item in checked]),
                attachment_ids=[a.pk for a in attachments],
            )
            if not created:  # a racing request with this client_id won: keep only its files
                raise _DuplicateSend(message)
        return message, True
    except _DuplicateSend as duplicate:
        for key in stored_keys:
            default_storage.delete(key)
        return duplicate.message, False
    except BaseException:
        for key in stored_keys:  # nothing half-written: no orphan files either
            default_storage.delete(key)
        raise
