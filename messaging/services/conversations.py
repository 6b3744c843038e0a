"""Writes on conversations and their people: start one, the automatic direct ones, add, remove,
leave, hand over, rename and the caller's own flags. Each event leaves after commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum, auto
from typing import Any, Final

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import STAFF_ROLES, Role, User
from core.db import BIGINT_MAX
from core.errors import CoreErrorCode, Forbidden, NotFound, ValidationFailed
from core.realtime import broadcast_to_users
from messaging import events
from messaging.errors import MessagingErrorCode
from messaging.models import Conversation, ConversationType, Participant, ParticipantRole, TriageStatus
from messaging.selectors import contact_candidates_for, direct_conversation_with, participant_user_ids
from notifications.services import notifications_create
from offices.models import Office

OFFICE_STAFF = (Role.MANAGER, Role.CONSULTANT, Role.RECEPTIONIST)


def _conversation_event(event: str, conversation: Conversation, *, extra_user_ids: Iterable[int] = ()) -> None:
    participants = list(Participant.objects.filter(conversation=conversation).select_related("user"))
    payload = events.conversation_payload(conversation, participants=participants)
    broadcast_to_users([p.user_id for p in participants] + list(extra_user_ids), event, payload)


def _office_for(users: Iterable[User]) -> int | None:
    """A conversation belongs to the office of its staff side (for monitoring)."""
    users = list(users)
    for user in users:
        if user.role in OFFICE_STAFF and user.office_id:
            return user.office_id
    return next((user.office_id for user in users if user.office_id), None)


def _notify_added(conversation: Conversation, users: Iterable[User], actor: User | None) -> None:
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


def _participants_for_create(actor: User, participant_ids: Iterable[Any]) -> list[User]:
    try:
        ids = {int(pk) for pk in participant_ids} - {actor.pk}
    except (TypeError, ValueError):
        raise ValidationFailed(
            "participant_ids must be user ids.", code=MessagingErrorCode.INVALID_PARTICIPANTS
        ) from None
    if not ids:
        raise ValidationFailed("Choose at least one other person.", code=MessagingErrorCode.INVALID_PARTICIPANTS)
    if max(ids) > BIGINT_MAX:  # no such user; the database would refuse the number itself
        raise NotFound(
            "Some of these people cannot be found.",
            code=MessagingErrorCode.PARTICIPANT_NOT_FOUND,
            details={"user_ids": sorted(pk for pk in ids if pk > BIGINT_MAX)},
        )
    if len(ids) + 1 > settings.MAX_CONVERSATION_PARTICIPANTS:
        raise ValidationFailed(
            f"A conversation holds at most {settings.MAX_CONVERSATION_PARTICIPANTS} people.",
            code=MessagingErrorCode.TOO_MANY_PARTICIPANTS,
        )
    allowed = list(contact_candidates_for(actor).filter(pk__in=ids))
    if len(allowed) != len(ids):
        # People you may not contact are indistinguishable from people who do not exist.
        missing = sorted(ids - {user.pk for user in allowed})
        raise NotFound(
            "Some of these people cannot be found.",
            code=MessagingErrorCode.PARTICIPANT_NOT_FOUND,
            details={"user_ids": missing},
        )
    return allowed


def _direct_get_or_create(
    *, user_a: User, user_b: User, creator: User | None, office_id: int | None, lead: Any = None
) -> tuple[Conversation, bool]:
    key = Conversation.direct_key_for(user_a.pk, user_b.pk)
    existing = Conversation.objects.filter(direct_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                type=ConversationType.DIRECT,
                direct_key=key,
                office_id=office_id,
                lead=lead,
                created_by=creator,
                last_activity_at=timezone.now(),
            )
            Participant.objects.bulk_create(
                [
                    Participant(conversation=conversation, user=user_a),
                    Participant(conversation=conversation, user=user_b),
                ]
            )
    except IntegrityError:  # the same pair raced us; theirs stands
        return Conversation.objects.get(direct_key=key), False
    return conversation, True


@transaction.atomic
def conversation_create(
    *, actor: User, type: str, participant_ids: Iterable[Any], title: str = ""
) -> tuple[Conversation, bool]:
    """Start a conversation. A direct conversation with the same person returns the existing one."""
    if type not in ConversationType.values:
        raise ValidationFailed("type must be direct or group.", code=MessagingErrorCode.INVALID_TYPE)
    people = _participants_for_create(actor, participant_ids)
    title = (title or "").strip()[:200]
    if type == ConversationType.DIRECT:
        if len(people) != 1:
            raise ValidationFailed(
                "A direct conversation is between two people.", code=MessagingErrorCode.INVALID_PARTICIPANTS
            )
        conversation, created = _direct_get_or_create(
            user_a=actor, user_b=people[0], creator=actor, office_id=_office_for([actor, people[0]])
        )
    else:
        conversation = Conversation.objects.create(
            type=ConversationType.GROUP,
            title=title,
            office_id=_office_for([actor, *people]),
            created_by=actor,
            last_activity_at=timezone.now(),
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


def conversation_direct_get_or_create(*, actor: User, user_id: Any) -> tuple[Conversation, bool]:
    """The direct conversation of `actor` with that user: the existing one (automatic ones
    included, whoever opened it), else a new one if the role table lets `actor` start it (404
    otherwise, like a person who does not exist). `created` says which."""
    try:
        return direct_conversation_with(actor, user_id), False
    except NotFound:
        return conversation_create(actor=actor, type=ConversationType.DIRECT, participant_ids=[user_id])


@transaction.atomic
def conversation_ensure_direct(
    *, user_a: User, user_b: User, actor: User | None = None, office: Office | None = None, lead: Any = None
) -> Conversation:
    """System use (automatic conversations): the pair's direct conversation, created if missing.

    No contact rules apply: the caller (lead assignment, escalation, staff onboarding) decides.
    """
    if user_a.pk == user_b.pk:
        raise ValidationFailed(
            "A direct conversation is between two people.", code=MessagingErrorCode.INVALID_PARTICIPANTS
        )
    office_id = office.pk if office is not None else _office_for([user_a, user_b])
    conversation, created = _direct_get_or_create(
        user_a=user_a, user_b=user_b, creator=actor, office_id=office_id, lead=lead
    )
    if not created and lead is not None and conversation.lead_id is None:
        Conversation.objects.filter(pk=conversation.pk).update(lead=lead)
        conversation.lead = lead
    if created:
        _conversation_event(events.CONVERSATION_CREATED, conversation)
        _notify_added(conversation, [user_a, user_b], actor)
    return conversation


@transaction.atomic
def participant_replace(
    *, conversation: Conversation, old_user: User, new_user: User, actor: User | None
) -> Conversation:
    """Hand a conversation (with its whole history) from one person to another — lead reassignment."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    membership = Participant.objects.filter(conversation=conversation, user=old_user).first()
    if membership is None:
        raise NotFound("That person is not in this conversation.")
    if Participant.objects.filter(conversation=conversation, user=new_user).exists():
        membership.delete()
    else:
        if conversation.type == ConversationType.DIRECT:
            other = (
                Participant.objects.filter(conversation=conversation)
                .exclude(user=old_user)
                .values_list("user_id", flat=True)
                .first()
            )
            assert other is not None  # a direct conversation has its two people
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
    broadcast_to_users(
        [old_user.pk], events.USER_LEFT_CONVERSATION, {"conversation_id": conversation.id, "user_id": old_user.pk}
    )
    _conversation_event(events.USER_JOINED_CONVERSATION, conversation)
    _notify_added(conversation, [new_user], actor)
    return conversation


def _admin_membership(actor: User, conversation: Conversation) -> Participant:
    membership = Participant.objects.filter(conversation=conversation, user=actor).first()
    if membership is None:
        raise NotFound("Conversation not found.")
    if conversation.type != ConversationType.GROUP:
        raise ValidationFailed("People are added to group conversations only.", code=MessagingErrorCode.NOT_A_GROUP)
    if membership.role != ParticipantRole.ADMIN:
        raise Forbidden("Only the group's admins can do this.", code=MessagingErrorCode.NOT_GROUP_ADMIN)
    return membership


@transaction.atomic
def participants_add(*, actor: User, conversation: Conversation, user_ids: Iterable[Any]) -> list[User]:
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    _admin_membership(actor, conversation)
    try:
        wanted = {int(pk) for pk in user_ids}
    except (TypeError, ValueError):
        raise ValidationFailed("user_ids must be user ids.", code=MessagingErrorCode.INVALID_PARTICIPANTS) from None
    present = set(Participant.objects.filter(conversation=conversation).values_list("user_id", flat=True))
    wanted -= present
    if not wanted:
        return []
    if len(present) + len(wanted) > settings.MAX_CONVERSATION_PARTICIPANTS:
        raise ValidationFailed(
            f"A conversation holds at most {settings.MAX_CONVERSATION_PARTICIPANTS} people.",
            code=MessagingErrorCode.TOO_MANY_PARTICIPANTS,
        )
    people = list(contact_candidates_for(actor).filter(pk__in=wanted))
    if len(people) != len(wanted):
        raise NotFound("Some of these people cannot be found.", code=MessagingErrorCode.PARTICIPANT_NOT_FOUND)
    Participant.objects.bulk_create([Participant(conversation=conversation, user=user) for user in people])
    _conversation_event(events.USER_JOINED_CONVERSATION, conversation)
    _notify_added(conversation, people, actor)
    return people


def _remove(conversation: Conversation, user_id: int) -> None:
    Participant.objects.filter(conversation=conversation, user_id=user_id).delete()
    payload = {"conversation_id": conversation.id, "user_id": user_id}
    # The removed user hears it too, so their sockets drop the conversation at once.
    broadcast_to_users([*participant_user_ids(conversation.id), user_id], events.USER_LEFT_CONVERSATION, payload)


@transaction.atomic
def participants_remove(*, actor: User, conversation: Conversation, user_id: Any) -> None:
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
        raise ValidationFailed(
            "You cannot leave a direct conversation; archive it instead.", code=MessagingErrorCode.NOT_A_GROUP
        )
    _remove(conversation, actor.pk)
    # A group never loses its last admin while people remain.
    remaining = Participant.objects.filter(conversation=conversation)
    if membership.role == ParticipantRole.ADMIN and not remaining.filter(role=ParticipantRole.ADMIN).exists():
        successor = remaining.order_by("joined_at", "id").first()
        if successor is not None:
            successor.role = ParticipantRole.ADMIN
            successor.save(update_fields=["role"])


def _triage(
    actor: User, membership: Participant, conversation: Conversation, status: str, until: datetime | None
) -> None:
    """Resolve, snooze or reopen for this staff member alone, as of the conversation's newest message: a
    later message from someone else opens it again (messaging.selectors.triage_of_membership)."""
    if actor.role not in STAFF_ROLES:
        raise Forbidden("Conversation status is the staff's.", code=MessagingErrorCode.STAFF_ONLY)
    if status not in TriageStatus.values:
        raise ValidationFailed("status is open, resolved or snoozed.", code=CoreErrorCode.VALIDATION_ERROR)
    if status == TriageStatus.SNOOZED and (until is None or until <= timezone.now()):
        raise ValidationFailed("Snooze until a time to come.", code=MessagingErrorCode.INVALID_SNOOZE)
    membership.triage_status = status
    membership.snoozed_until = until if status == TriageStatus.SNOOZED else None
    membership.triage_seq = Conversation.objects.filter(pk=conversation.pk).values_list("last_seq", flat=True)[0]
    membership.save(update_fields=["triage_status", "snoozed_until", "triage_seq"])


class _Unset(Enum):
    """An argument not given (None is a value: no title, not muted)."""

    UNSET = auto()


_UNSET: Final = _Unset.UNSET


@transaction.atomic
def conversation_update(
    *,
    actor: User,
    conversation: Conversation,
    title: str | _Unset | None = _UNSET,
    is_archived: bool | _Unset = _UNSET,
    is_pinned: bool | _Unset = _UNSET,
    muted_until: datetime | _Unset | None = _UNSET,
    status: str | _Unset = _UNSET,
    snoozed_until: datetime | _Unset | None = _UNSET,
) -> Conversation:
    """The title (group admins), the caller's own archived / pinned / muted-until flags, and (staff) where
    the conversation stands in their inbox: open, resolved, or snoozed until a time."""
    membership = Participant.objects.select_for_update().filter(conversation=conversation, user=actor).first()
    if membership is None:
        raise NotFound("Conversation not found.")
    if status is not _UNSET:
        _triage(actor, membership, conversation, status, None if snoozed_until is _UNSET else snoozed_until)
    if title is not _UNSET:
        _admin_membership(actor, conversation)
        conversation.title = (title or "").strip()[:200]
        conversation.save(update_fields=["title", "updated_at"])
        _conversation_event(events.CONVERSATION_UPDATED, conversation)
    flags: dict[str, object] = {}
    for field, value in (("is_archived", is_archived), ("is_pinned", is_pinned), ("muted_until", muted_until)):
        if value is not _UNSET:
            setattr(membership, field, value)
            flags[field] = value
    if flags:
        membership.save(update_fields=list(flags))
    return conversation
