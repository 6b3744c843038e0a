"""Writes on conversations and messages. REST, the socket consumer, the admin and commands
all call these; each emits its real-time event after commit through `core.realtime`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, PositiveBigIntegerField, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import Role, User
from core.db import prepared_cursor
from core.errors import Forbidden, NotFound, ValidationFailed
from core.realtime import broadcast_to_members, broadcast_to_users
from messaging import events
from messaging.models import (
    Attachment,
    Conversation,
    ConversationType,
    Message,
    MessageType,
    MonitoringAudit,
    Participant,
    ParticipantRole,
)
from messaging.selectors import (
    HIGHLIGHT_START,
    HIGHLIGHT_STOP,
    contact_candidates_for,
    conversation_can_monitor,
    direct_conversation_with,
    participant_user_ids,
)


# --- content rules ---------------------------------------------------------------------


@lru_cache(maxsize=8)
def _profanity_pattern(words: tuple[str, ...]) -> re.Pattern | None:
    if not words:
        return None
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


def content_clean(content: str) -> str:
    """Length limit and profanity (word boundaries; mask, reject or off per setting)."""
    if len(content) > settings.MESSAGE_MAX_LENGTH:
        raise ValidationFailed(
            f"A message holds at most {settings.MESSAGE_MAX_LENGTH} characters.",
            code="message_too_long",
            details={"max_length": settings.MESSAGE_MAX_LENGTH},
        )
    if "\x00" in content:
        raise ValidationFailed("Message content cannot contain NUL characters.", code="invalid_content")
    content = content.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_STOP, "")  # reserved for search snippets
    mode = settings.PROFANITY_MODE
    pattern = _profanity_pattern(tuple(w.lower() for w in settings.PROFANITY_WORDS)) if mode != "off" else None
    if pattern is None or not pattern.search(content):
        return content
    if mode == "reject":
        raise ValidationFailed("Please keep the conversation polite.", code="profanity")
    return pattern.sub(lambda match: "*" * len(match.group(0)), content)


def _broadcast_message(event: str, message: Message, member_ids: list[int] | None = None) -> None:
    """Once to the conversation's members group (participants and read-only monitors)."""
    if member_ids is None:
        member_ids = participant_user_ids(message.conversation_id)
    broadcast_to_members(message.conversation_id, member_ids, event, events.message_payload(message), monitors=True,
                         seq=message.seq if event == events.MESSAGE_RECEIVED else None, sender_id=message.sender_id)


def _conversation_event(event: str, conversation: Conversation, *, extra_user_ids: Iterable[int] = ()) -> None:
    participants = list(Participant.objects.filter(conversation=conversation).select_related("user"))
    payload = events.conversation_payload(conversation, participants=participants)
    broadcast_to_users([p.user_id for p in participants] + list(extra_user_ids), event, payload)


def _office_for(users: Iterable[User]) -> int | None:
    """A conversation belongs to the office of its staff side (for monitoring)."""
    users = list(users)
    for user in users:
        if user.role in (Role.MANAGER, Role.CONSULTANT, Role.RECEPTIONIST) and user.office_id:
            return user.office_id
    return next((user.office_id for user in users if user.office_id), None)


def _notify_added(conversation: Conversation, users: Iterable[User], actor: User | None) -> None:
    from notifications.services import notifications_create

    recipients = [user for user in users if actor is None or user.pk != actor.pk]
    if recipients:
        who = actor.full_name if actor else "The system"
        notifications_create(
            recipients=recipients,
            kind="conversation_added",
            title=f"{who} added you to a conversation",
            body=conversation.title,
            data={"conversation_id": conversation.id},
        )


# --- conversations ---------------------------------------------------------------------


def _participants_for_create(actor: User, participant_ids: Iterable) -> list[User]:
    try:
        ids = {int(pk) for pk in participant_ids} - {actor.pk}
    except (TypeError, ValueError):
        raise ValidationFailed("participant_ids must be user ids.", code="invalid_participants") from None
    if not ids:
        raise ValidationFailed("Choose at least one other person.", code="invalid_participants")
    if max(ids) > BIGINT_MAX:  # no such user; the database would refuse the number itself
        raise NotFound("Some of these people cannot be found.", code="participant_not_found",
                       details={"user_ids": sorted(pk for pk in ids if pk > BIGINT_MAX)})
    if len(ids) + 1 > settings.MAX_CONVERSATION_PARTICIPANTS:
        raise ValidationFailed(
            f"A conversation holds at most {settings.MAX_CONVERSATION_PARTICIPANTS} people.",
            code="too_many_participants",
        )
    allowed = list(contact_candidates_for(actor).filter(pk__in=ids))
    if len(allowed) != len(ids):
        # People you may not contact are indistinguishable from people who do not exist.
        missing = sorted(ids - {user.pk for user in allowed})
        raise NotFound("Some of these people cannot be found.", code="participant_not_found", details={"user_ids": missing})
    return allowed


def _direct_get_or_create(*, user_a: User, user_b: User, creator: User | None, office_id, lead=None) -> tuple[Conversation, bool]:
    key = Conversation.direct_key_for(user_a.pk, user_b.pk)
    existing = Conversation.objects.filter(direct_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                type=ConversationType.DIRECT, direct_key=key, office_id=office_id, lead=lead,
                created_by=creator, last_activity_at=timezone.now(),
            )
            Participant.objects.bulk_create(
                [Participant(conversation=conversation, user=user_a), Participant(conversation=conversation, user=user_b)]
            )
    except IntegrityError:  # the same pair raced us; theirs stands
        return Conversation.objects.get(direct_key=key), False
    return conversation, True


@transaction.atomic
def conversation_create(*, actor: User, type: str, participant_ids: Iterable, title: str = "") -> tuple[Conversation, bool]:
    """Start a conversation. A direct conversation with the same person returns the existing one."""
    if type not in ConversationType.values:
        raise ValidationFailed("type must be direct or group.", code="invalid_type")
    people = _participants_for_create(actor, participant_ids)
    title = (title or "").strip()[:200]
    if type == ConversationType.DIRECT:
        if len(people) != 1:
            raise ValidationFailed("A direct conversation is between two people.", code="invalid_participants")
        conversation, created = _direct_get_or_create(
            user_a=actor, user_b=people[0], creator=actor, office_id=_office_for([actor, people[0]])
        )
    else:
        conversation = Conversation.objects.create(
            type=ConversationType.GROUP, title=title, office_id=_office_for([actor, *people]),
            created_by=actor, last_activity_at=timezone.now(),
        )
        Participant.objects.bulk_create(
            [Participant(conversation=conversation, user=actor, role=ParticipantRole.ADMIN)]
            + [Participant(conversation=conversation, user=user) for user in people]
        )
        created = True
    if created:
        _conversation_event(events.CONVERSATION_CREATED, conversation)
        _notify_added(conversation, people, actor)
    return conversation, created


def conversation_direct_get_or_create(*, actor: User, user_id) -> tuple[Conversation, bool]:
    """The direct conversation of `actor` with that user: the existing one (automatic ones
    included, whoever opened it), else a new one if the role table lets `actor` start it (404
    otherwise, like a person who does not exist). `created` says which."""
    try:
        return direct_conversation_with(actor, user_id), False
    except NotFound:
        return conversation_create(actor=actor, type=ConversationType.DIRECT, participant_ids=[user_id])


@transaction.atomic
def conversation_ensure_direct(
    *, user_a: User, user_b: User, actor: User | None = None, office=None, lead=None
) -> Conversation:
    """System use (automatic conversations): the pair's direct conversation, created if missing.

    No contact rules apply: the caller (lead assignment, escalation, staff onboarding) decides.
    """
    if user_a.pk == user_b.pk:
        raise ValidationFailed("A direct conversation is between two people.", code="invalid_participants")
    office_id = office.pk if office is not None else _office_for([user_a, user_b])
    conversation, created = _direct_get_or_create(user_a=user_a, user_b=user_b, creator=actor, office_id=office_id, lead=lead)
    if not created and lead is not None and conversation.lead_id is None:
        Conversation.objects.filter(pk=conversation.pk).update(lead=lead)
        conversation.lead = lead
    if created:
        _conversation_event(events.CONVERSATION_CREATED, conversation)
        _notify_added(conversation, [user_a, user_b], actor)
    return conversation


@transaction.atomic
def participant_replace(*, conversation: Conversation, old_user: User, new_user: User, actor: User | None) -> Conversation:
    """Hand a conversation (with its whole history) from one person to another — lead reassignment."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    membership = Participant.objects.filter(conversation=conversation, user=old_user).first()
    if membership is None:
        raise NotFound("That person is not in this conversation.")
    if Participant.objects.filter(conversation=conversation, user=new_user).exists():
        membership.delete()
    else:
        if conversation.type == ConversationType.DIRECT:
            other = Participant.objects.filter(conversation=conversation).exclude(user=old_user).values_list("user_id", flat=True).first()
            new_key = Conversation.direct_key_for(other, new_user.pk)
            # An older direct conversation of the new pair keeps its own history; this one becomes the pair's.
            Conversation.objects.filter(direct_key=new_key).exclude(pk=conversation.pk).update(
                type=ConversationType.GROUP, direct_key=None
            )
            conversation.direct_key = new_key
        membership.user = new_user
        membership.last_read_seq = membership.last_delivered_seq = 0
        membership.save()
    if new_user.office_id and new_user.role != Role.STUDENT:
        conversation.office_id = new_user.office_id
    conversation.save(update_fields=["direct_key", "type", "office", "updated_at"])
    broadcast_to_users([old_user.pk], events.USER_LEFT_CONVERSATION, {"conversation_id": conversation.id, "user_id": old_user.pk})
    _conversation_event(events.USER_JOINED_CONVERSATION, conversation)
    _notify_added(conversation, [new_user], actor)
    return conversation


def _admin_membership(actor: User, conversation: Conversation) -> Participant:
    membership = Participant.objects.filter(conversation=conversation, user=actor).first()
    if membership is None:
        raise NotFound("Conversation not found.")
    if conversation.type != ConversationType.GROUP:
        raise ValidationFailed("People are added to group conversations only.", code="not_a_group")
    if membership.role != ParticipantRole.ADMIN:
        raise Forbidden("Only the group's admins can do this.", code="not_group_admin")
    return membership


@transaction.atomic
def participants_add(*, actor: User, conversation: Conversation, user_ids: Iterable) -> list[User]:
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    _admin_membership(actor, conversation)
    try:
        wanted = {int(pk) for pk in user_ids}
    except (TypeError, ValueError):
        raise ValidationFailed("user_ids must be user ids.", code="invalid_participants") from None
    present = set(Participant.objects.filter(conversation=conversation).values_list("user_id", flat=True))
    wanted -= present
    if not wanted:
        return []
    if len(present) + len(wanted) > settings.MAX_CONVERSATION_PARTICIPANTS:
        raise ValidationFailed(
            f"A conversation holds at most {settings.MAX_CONVERSATION_PARTICIPANTS} people.", code="too_many_participants"
        )
    people = list(contact_candidates_for(actor).filter(pk__in=wanted))
    if len(people) != len(wanted):
        raise NotFound("Some of these people cannot be found.", code="participant_not_found")
    Participant.objects.bulk_create([Participant(conversation=conversation, user=user) for user in people])
    _conversation_event(events.USER_JOINED_CONVERSATION, conversation)
    _notify_added(conversation, people, actor)
    return people


def _remove(conversation: Conversation, user_id: int) -> None:
    Participant.objects.filter(conversation=conversation, user_id=user_id).delete()
    payload = {"conversation_id": conversation.id, "user_id": user_id}
    # The removed user hears it too, so their sockets drop the conversation at once.
    broadcast_to_users(participant_user_ids(conversation.id) + [user_id], events.USER_LEFT_CONVERSATION, payload)


@transaction.atomic
def participants_remove(*, actor: User, conversation: Conversation, user_id) -> None:
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        raise NotFound("That person is not in this conversation.") from None
    if user_id == actor.pk:
        return conversation_leave(actor=actor, conversation=conversation)
    _admin_membership(actor, conversation)
    if not Participant.objects.filter(conversation=conversation, user_id=user_id).exists():
        raise NotFound("That person is not in this conversation.")
    _remove(conversation, user_id)


@transaction.atomic
def conversation_leave(*, actor: User, conversation: Conversation) -> None:
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    membership = Participant.objects.filter(conversation=conversation, user=actor).first()
    if membership is None:
        raise NotFound("Conversation not found.")
    if conversation.type == ConversationType.DIRECT:
        raise ValidationFailed("You cannot leave a direct conversation; archive it instead.", code="not_a_group")
    _remove(conversation, actor.pk)
    # A group never loses its last admin while people remain.
    remaining = Participant.objects.filter(conversation=conversation)
    if membership.role == ParticipantRole.ADMIN and not remaining.filter(role=ParticipantRole.ADMIN).exists():
        successor = remaining.order_by("joined_at", "id").first()
        if successor is not None:
            successor.role = ParticipantRole.ADMIN
            successor.save(update_fields=["role"])


_UNSET = object()


@transaction.atomic
def conversation_update(
    *, actor: User, conversation: Conversation, title=_UNSET, is_archived=_UNSET, is_pinned=_UNSET, muted_until=_UNSET
) -> Conversation:
    """The title (group admins) and the caller's own archived / pinned / muted-until flags."""
    membership = Participant.objects.select_for_update().filter(conversation=conversation, user=actor).first()
    if membership is None:
        raise NotFound("Conversation not found.")
    if title is not _UNSET:
        _admin_membership(actor, conversation)
        conversation.title = (title or "").strip()[:200]
        conversation.save(update_fields=["title", "updated_at"])
        _conversation_event(events.CONVERSATION_UPDATED, conversation)
    flags = {}
    for field, value in (("is_archived", is_archived), ("is_pinned", is_pinned), ("muted_until", muted_until)):
        if value is not _UNSET:
            setattr(membership, field, value)
            flags[field] = value
    if flags:
        membership.save(update_fields=list(flags))
    return conversation


# --- messages --------------------------------------------------------------------------


def _existing_send(sender: User, client_id: str, conversation: Conversation) -> Message | None:
    message = Message.objects.select_related("sender").filter(sender=sender, client_id=client_id).first()
    if message is None:
        return None
    if message.conversation_id != conversation.pk:
        raise ValidationFailed("This client_id was already used in another conversation.", code="client_id_reused")
    if not Participant.objects.filter(conversation_id=conversation.pk, user=sender).exists():
        raise NotFound("Conversation not found.")  # a former participant learns nothing, not even their old message
    return message


BIGINT_MAX = 2**63 - 1  # ids are PostgreSQL bigints


def message_send(
    *, sender: User, conversation: Conversation, content: str = "", type: str = MessageType.TEXT,
    reply_to_id=None, client_id: str | None = None, attachment_ids: Iterable[int] = (),
) -> tuple[Message, bool]:
    """Store a message with the conversation's next `seq` and push it to every participant.

    Only `conversation.pk` is used: membership is checked under the conversation's row lock (a
    non-member gets 404). The same `(sender, client_id)` returns the first message (`created`
    False), also when two sends race: the unique constraint decides and the loser reads the
    winner's row.
    """
    if type not in (MessageType.TEXT, MessageType.IMAGE, MessageType.VIDEO, MessageType.FILE):
        raise ValidationFailed("type must be text, image, video or file.", code="invalid_type")
    content = content_clean((content or "").strip())
    attachment_ids = list(attachment_ids)
    if not content and not attachment_ids:
        raise ValidationFailed("A message needs content or files.", code="empty_message")
    if reply_to_id is not None:
        try:
            reply_to_id = int(reply_to_id)
        except (TypeError, ValueError):
            raise ValidationFailed("reply_to_id must be a message id.", code="invalid_reply_to") from None
        if not 0 < reply_to_id <= BIGINT_MAX:
            raise ValidationFailed("You can only reply to a message of this conversation.", code="invalid_reply_to")
    if not 0 < int(conversation.pk) <= BIGINT_MAX:  # no such row; the database would refuse the number itself
        raise NotFound("Conversation not found.")
    if client_id is not None:
        client_id = str(client_id).strip()
        if not client_id or len(client_id) > 64:
            raise ValidationFailed("client_id must be 1 to 64 characters.", code="invalid_client_id")
    # A plain send is one statement and its own transaction; with files, or inside a caller's
    # transaction, it joins one (a savepoint, so a repeated client_id spoils nothing).
    joined = transaction.atomic() if attachment_ids or connection.in_atomic_block else nullcontext()
    try:  # optimistic: a repeated client_id is rare, so it costs nothing until the insert conflicts
        with joined:
            message, member_ids = _message_store(
                sender=sender, conversation_id=conversation.pk, type=type, content=content,
                reply_to_id=reply_to_id, client_id=client_id,
            )
            if attachment_ids:
                claimed = Attachment.objects.filter(pk__in=attachment_ids, uploaded_by=sender, message__isnull=True).update(message=message)
                if claimed != len(set(attachment_ids)):
                    raise ValidationFailed("Some files are unknown or already sent.", code="invalid_attachments")
                message.loaded_attachments = list(Attachment.objects.filter(message=message).order_by("id"))
            _broadcast_message(events.MESSAGE_RECEIVED, message, member_ids)
    except IntegrityError:
        if client_id is None:
            raise
        existing = _existing_send(sender, client_id, conversation)
        if existing is None:
            raise
        return existing, False
    return message, True


def _message_store(*, sender: User, conversation_id: int, type: str, content: str, reply_to_id, client_id) -> tuple[Message, list[int]]:
    """The hot path of every send: one call of the database function `messaging_message_store`
    (migration 0003), which locks the conversation, checks membership and the reply after the
    lock, takes the next `seq` and the message id, moves the sender's pointers, stores the
    message and lists the participants to push to. One round trip, the lock held briefly."""
    now = timezone.now()
    with prepared_cursor() as cursor:  # planned once per pooled connection, not on every send
        cursor.execute(
            "SELECT * FROM messaging_message_store(%s::bigint, %s::bigint, %s::text, %s::text, %s::bigint, %s::text, %s::timestamptz)",
            [conversation_id, sender.pk, type, content, reply_to_id, client_id, now],
        )
        is_member, reply_ok, seq, message_id, member_ids = cursor.fetchone()
    if not is_member:
        raise NotFound("Conversation not found.")
    if not reply_ok:
        raise ValidationFailed("You can only reply to a message of this conversation.", code="invalid_reply_to")
    message = Message(
        id=message_id, conversation_id=conversation_id, seq=seq, sender=sender, type=type, content=content,
        reply_to_id=reply_to_id, client_id=client_id, created_at=now,
    )
    message._state.adding, message._state.db = False, connection.alias
    message.loaded_attachments = []
    return message, member_ids


def _own_message(actor: User, message: Message) -> None:
    if not Participant.objects.filter(conversation_id=message.conversation_id, user=actor).exists():
        raise NotFound("Message not found.")
    if message.sender_id != actor.pk:
        raise Forbidden("Only the sender can edit a message.", code="not_sender")


@transaction.atomic
def message_edit(*, actor: User, message: Message, content: str) -> Message:
    message = Message.objects.select_for_update(of=("self",)).select_related("sender").get(pk=message.pk)
    _own_message(actor, message)
    if message.deleted_at is not None:
        raise ValidationFailed("A deleted message cannot be edited.", code="message_deleted")
    if message.type == MessageType.SYSTEM:
        raise Forbidden("System messages cannot be edited.")
    limit = timedelta(milliseconds=settings.MESSAGE_EDIT_TIME_LIMIT)
    if timezone.now() - message.created_at > limit:
        raise Forbidden("This message can no longer be edited.", code="edit_window_passed",
                        details={"limit_ms": settings.MESSAGE_EDIT_TIME_LIMIT})
    content = content_clean((content or "").strip())
    if not content:
        raise ValidationFailed("A message needs content.", code="empty_message")
    message.content = content
    message.edited_at = timezone.now()
    message.save(update_fields=["content", "edited_at"])
    _broadcast_message(events.MESSAGE_EDITED, message)
    return message


@transaction.atomic
def message_delete(*, actor: User, message: Message) -> Message:
    """Soft delete by the sender, or by monitoring staff in scope. The row stays for audit."""
    message = Message.objects.select_for_update(of=("self",)).select_related("sender", "conversation").get(pk=message.pk)
    is_participant = Participant.objects.filter(conversation_id=message.conversation_id, user=actor).exists()
    may_moderate = conversation_can_monitor(actor, message.conversation)
    if not is_participant and not may_moderate:
        raise NotFound("Message not found.")
    if message.sender_id != actor.pk and not may_moderate:
        raise Forbidden("Only the sender can delete this message.", code="not_sender")
    if message.deleted_at is None:
        message.deleted_at = timezone.now()
        message.deleted_by = actor
        message.save(update_fields=["deleted_at", "deleted_by"])
        _broadcast_message(events.MESSAGE_DELETED, message)
    return message


def _advance_pointer(*, user: User, conversation_id: int, seq: int, field: str) -> Participant | None:
    """Move a read/delivered pointer forward only; None when nothing changed."""
    conversation = Conversation.objects.filter(pk=conversation_id).only("last_seq").first()
    if conversation is None:
        raise NotFound("Conversation not found.")
    seq = min(int(seq), conversation.last_seq)
    updated = Participant.objects.filter(conversation_id=conversation_id, user=user, **{f"{field}__lt": seq})
    if field == "last_read_seq":  # read implies delivered; neither pointer ever moves back
        count = updated.update(
            last_read_seq=seq,
            last_delivered_seq=Case(
                When(last_delivered_seq__lt=seq, then=Value(seq)), default=F("last_delivered_seq"),
                output_field=PositiveBigIntegerField(),
            ),
        )
    else:
        count = updated.update(**{field: seq})
    if not count:
        if not Participant.objects.filter(conversation_id=conversation_id, user=user).exists():
            raise NotFound("Conversation not found.")
        return None
    return Participant.objects.get(conversation_id=conversation_id, user=user)


@transaction.atomic
def conversation_mark_read(*, user: User, conversation: Conversation, seq: int | None = None) -> int:
    """Everything up to `seq` (default: the latest) is read by `user`; returns the read seq."""
    seq = conversation.last_seq if seq is None else seq
    membership = _advance_pointer(user=user, conversation_id=conversation.pk, seq=seq, field="last_read_seq")
    if membership is not None:
        broadcast_to_members(
            conversation.pk, participant_user_ids(conversation.pk), events.MESSAGE_READ,
            {"conversation_id": conversation.pk, "user_id": user.pk, "seq": membership.last_read_seq},
        )
        return membership.last_read_seq
    return Participant.objects.get(conversation=conversation, user=user).last_read_seq


@transaction.atomic
def conversations_mark_all_read(*, user: User) -> list[tuple[int, int]]:
    """Every conversation of `user` read up to its latest message, in one statement; each moved
    pointer is announced like any read (`message_read` to the members, the user's other devices
    included). Returns the moved pointers as (conversation_id, seq)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE messaging_participant p
            SET last_read_seq = c.last_seq, last_delivered_seq = GREATEST(p.last_delivered_seq, c.last_seq)
            FROM messaging_conversation c
            WHERE c.id = p.conversation_id AND p.user_id = %s AND p.last_read_seq < c.last_seq
            RETURNING p.conversation_id, c.last_seq
            """,
            [user.pk],
        )
        moved = sorted(cursor.fetchall())
    members: dict[int, list[int]] = {conversation_id: [] for conversation_id, _ in moved}
    for conversation_id, user_id in Participant.objects.filter(conversation_id__in=list(members)).values_list(
            "conversation_id", "user_id"):
        members[conversation_id].append(user_id)
    for conversation_id, seq in moved:
        broadcast_to_members(conversation_id, members[conversation_id], events.MESSAGE_READ,
                             {"conversation_id": conversation_id, "user_id": user.pk, "seq": seq})
    return moved


@transaction.atomic
def conversation_clear_history(*, user: User, conversation: Conversation) -> int:
    """Hide every message of the conversation up to now from `user` alone; messages sent later
    show as usual. The hidden messages count as read. Returns the cleared seq.

    The user's other devices hear `conversation_cleared` (they drop the hidden history); a moved
    read pointer is announced like any read (`message_read`)."""
    membership = (Participant.objects.select_for_update(of=("self",)).select_related("conversation")
                  .filter(conversation_id=conversation.pk, user=user).first())
    if membership is None:
        raise NotFound("Conversation not found.")
    seq = membership.conversation.last_seq
    Participant.objects.filter(pk=membership.pk).update(
        cleared_seq=Greatest(F("cleared_seq"), Value(seq)),
        last_read_seq=Greatest(F("last_read_seq"), Value(seq)),
        last_delivered_seq=Greatest(F("last_delivered_seq"), Value(seq)),
    )
    if membership.last_read_seq < seq:
        broadcast_to_members(conversation.pk, participant_user_ids(conversation.pk), events.MESSAGE_READ,
                             {"conversation_id": conversation.pk, "user_id": user.pk, "seq": seq})
    broadcast_to_users([user.pk], events.CONVERSATION_CLEARED, {"conversation_id": conversation.pk, "cleared_seq": seq})
    return seq


def message_mark_read(*, user: User, message: Message) -> int:
    """A read receipt for one message marks everything before it read too."""
    return conversation_mark_read(user=user, conversation=message.conversation, seq=message.seq)


@transaction.atomic
def deliveries_record(*, reached: dict[tuple[int, int], int]) -> list[tuple[int, int, int]]:
    """What sockets pushed to devices, batched per server process: `{(user_id, conversation_id): seq}`.

    One statement whatever the batch: delivered pointers only move forward (rows locked in id
    order, so two processes never deadlock), and the senders of the newly delivered messages hear
    `message_delivered`. Returns the moved pointers as (conversation_id, user_id, seq).
    """
    if not reached:
        return []
    keys = sorted(reached)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH reached AS (
                SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS r(user_id, conversation_id, seq)
            ), locked AS (
                SELECT p.id, p.user_id, p.conversation_id, p.last_delivered_seq AS old_seq, r.seq
                FROM messaging_participant p JOIN reached r USING (user_id, conversation_id)
                WHERE p.last_delivered_seq < r.seq ORDER BY p.id FOR UPDATE OF p
            ), moved AS (
                UPDATE messaging_participant p SET last_delivered_seq = locked.seq FROM locked WHERE p.id = locked.id
                RETURNING locked.user_id, locked.conversation_id, locked.old_seq, locked.seq
            )
            SELECT moved.conversation_id, moved.user_id, moved.seq,
                   ARRAY(SELECT DISTINCT m.sender_id FROM messaging_message m
                         WHERE m.conversation_id = moved.conversation_id AND m.seq > moved.old_seq AND m.seq <= moved.seq
                           AND m.sender_id IS NOT NULL AND m.sender_id <> moved.user_id)
            FROM moved ORDER BY 1, 2
            """,
            [[user_id for user_id, _ in keys], [conversation_id for _, conversation_id in keys], [reached[k] for k in keys]],
        )
        rows = cursor.fetchall()
    for conversation_id, user_id, seq, sender_ids in rows:
        if sender_ids:
            broadcast_to_members(conversation_id, sender_ids, events.MESSAGE_DELIVERED,
                                 {"conversation_id": conversation_id, "user_id": user_id, "seq": seq})
    return [(conversation_id, user_id, seq) for conversation_id, user_id, seq, _ in rows]


# --- monitoring audit -------------------------------------------------------------------


def monitoring_audit_record(*, actor: User, action: str, conversation: Conversation | None = None, office_id=None, details=None) -> None:
    """Reads and exports by someone outside the conversation leave a row the super admin can see."""
    if conversation is not None and Participant.objects.filter(conversation=conversation, user=actor).exists():
        return
    MonitoringAudit.objects.create(
        actor=actor, action=action, conversation=conversation,
        office_id=office_id if office_id is not None else (conversation.office_id if conversation else None),
        details=details or {},
    )


def _message_type_for(mime_types: list[str]) -> str:
    if all(m.startswith("image/") for m in mime_types):
        return MessageType.IMAGE
    if all(m.startswith("video/") for m in mime_types):
        return MessageType.VIDEO
    return MessageType.FILE


def message_send_with_files(
    *, sender: User, conversation: Conversation, files, content: str = "", client_id: str | None = None
) -> tuple[Message, bool]:
    """Check every file, store it under a random key, and send one message carrying them all."""
    from django.core.files.storage import default_storage

    from core.uploads import check_upload, store_upload

    if client_id:
        existing = _existing_send(sender, str(client_id).strip(), conversation)
        if existing is not None:
            return existing, False
    if not files or len(files) > settings.MAX_FILES_PER_MESSAGE:
        raise ValidationFailed(f"Attach 1 to {settings.MAX_FILES_PER_MESSAGE} files.", code="too_many_files")
    checked = [check_upload(f) for f in files]  # everything is checked before anything is stored
    stored_keys: list[str] = []
    try:
        with transaction.atomic():
            attachments = []
            for item in checked:
                stored = store_upload(item, prefix=f"conversations/{conversation.pk}")
                stored_keys += [k for k in (stored.key, stored.thumbnail_key) if k]
                attachments.append(Attachment(
                    uploaded_by=sender, file_key=stored.key, thumbnail_key=stored.thumbnail_key,
                    file_name=item.name, mime_type=item.mime_type, size=item.size, width=item.width, height=item.height,
                ))
            Attachment.objects.bulk_create(attachments)
            message, created = message_send(
                sender=sender, conversation=conversation, content=content, client_id=client_id,
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


class _DuplicateSend(Exception):
    def __init__(self, message: Message):
        self.message = message
