"""Who may read what in messaging. Each read rule is written here once, and every door (REST, the
socket, the console and admin, exports, commands) asks these functions:

- a participant reads their conversations, except what they cleared (`cleared_seq`);
- monitoring (read-only, audited by the caller): a super admin every conversation, a manager
  their office's (`monitoring_reach`);
- whom a user may start a conversation with (`contact_candidates_for`).

Anything outside a user's reach is answered like something that does not exist (404).
"""

from __future__ import annotations

import enum
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import STAFF_ROLES, Role, User
from accounts.selectors import leads_reaching_q, user_list_for
from core.db import BIGINT_MAX
from core.errors import NotFound
from messaging.models import Attachment, Conversation, Message, MonitoringAudit, Participant


def id_or_404(value: Any, what: str = "Conversation") -> int:
    """An id a caller sent (whatever it is); 404, like a row that does not exist, when it is not one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound(f"{what} not found.") from None
    if not 0 < number <= BIGINT_MAX:  # names no row (and the database would refuse the number)
        raise NotFound(f"{what} not found.")
    return number


# --- monitoring ---------------------------------------------------------------------------


class Reach(enum.Enum):
    NONE = "none"
    OFFICE = "office"  # the conversations of their own office
    EVERY = "every"


_MONITORING: dict[str, Reach] = {Role.SUPER_ADMIN: Reach.EVERY, Role.MANAGER: Reach.OFFICE}
MONITOR_ROLES = frozenset(_MONITORING)  # (the admin's view_roles)
MONITOR_ALL_ROLES = frozenset(role for role, reach in _MONITORING.items() if reach is Reach.EVERY)


def monitoring_reach(user: User) -> Reach:
    """Which conversations `user` may monitor: the one rule of who monitors."""
    if not user.is_active:
        return Reach.NONE
    reach = _MONITORING.get(user.role, Reach.NONE)
    return Reach.NONE if reach is Reach.OFFICE and user.office_id is None else reach


def monitors_conversations(user: User) -> bool:
    """A monitor at all: a manager (their office) or a super admin (every office)."""
    return monitoring_reach(user) is not Reach.NONE


def monitors_every_conversation(user: User) -> bool:
    """A super admin: monitors every office, and reads the monitoring audit."""
    return monitoring_reach(user) is Reach.EVERY


def monitors_office(user: User, office_id: int) -> bool:
    """Whether `user` may monitor that office's conversations."""
    reach = monitoring_reach(user)
    return reach is Reach.EVERY or (reach is Reach.OFFICE and office_id == user.office_id)


def monitorable_conversations(user: User) -> QuerySet[Conversation]:
    """Conversations `user` may monitor read-only."""
    reach = monitoring_reach(user)
    if reach is Reach.EVERY:
        return Conversation.objects.all()
    if reach is Reach.OFFICE:
        return Conversation.objects.filter(office=user.office_id)
    return Conversation.objects.none()


def conversation_can_monitor(user: User, conversation: Conversation) -> bool:
    return monitorable_conversations(user).filter(pk=conversation.pk).exists()


def conversation_get_for_monitoring(user: User, conversation_id: Any) -> Conversation:
    try:
        return monitorable_conversations(user).get(pk=id_or_404(conversation_id))
    except Conversation.DoesNotExist:
        raise NotFound("Conversation not found.") from None


def monitoring_audit_for(user: User) -> QuerySet[MonitoringAudit]:
    """The log of monitors' reads: for those who monitor every office (empty for anyone else)."""
    return MonitoringAudit.objects.all() if monitors_every_conversation(user) else MonitoringAudit.objects.none()


# --- participants -------------------------------------------------------------------------


def membership_get(user: User, conversation_id: Any) -> Participant:
    """The caller's membership; 404 when they are not (or no longer) in the conversation."""
    try:
        return Participant.objects.select_related("conversation").get(
            conversation_id=id_or_404(conversation_id), user=user, user__is_active=True
        )
    except Participant.DoesNotExist:
        raise NotFound("Conversation not found.") from None


def conversation_get_for(user: User, conversation_id: Any) -> Conversation:
    """A conversation the user takes part in (404 otherwise)."""
    return membership_get(user, conversation_id).conversation


def conversation_access(user: User, conversation_id: Any) -> tuple[Conversation, Participant | None]:
    """Read access as participant (membership returned) or as monitor (None); 404 otherwise."""
    membership = (
        Participant.objects.select_related("conversation")
        .filter(conversation_id=id_or_404(conversation_id), user=user, user__is_active=True)
        .first()
    )
    if membership is not None:
        return membership.conversation, membership
    return conversation_get_for_monitoring(user, conversation_id), None


def member_conversations(user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(participants__user=user, participants__user__is_active=True)


def readable_conversation_ids(user: User) -> QuerySet[Conversation, Any]:  # rows: {"id"} (a subquery)
    """Conversations whose messages `user` may read: theirs, and those they monitor."""
    mine = Participant.objects.filter(user=user, user__is_active=True).values("conversation_id")
    monitored = monitorable_conversations(user).values("id")
    return Conversation.objects.filter(Q(id__in=mine) | Q(id__in=monitored)).values("id")


def message_get_for(user: User, message_id: Any) -> Message:
    """A message in a conversation the user takes part in or monitors; 404 otherwise."""
    try:
        message = Message.objects.select_related("conversation", "sender").get(pk=id_or_404(message_id, "Message"))
    except Message.DoesNotExist:
        raise NotFound("Message not found.") from None
    cleared = (
        Participant.objects.filter(conversation_id=message.conversation_id, user=user, user__is_active=True)
        .values_list("cleared_seq", flat=True)
        .first()
    )
    if cleared is not None:
        if message.seq <= cleared:  # the caller cleared their history past it
            raise NotFound("Message not found.")
        return message
    if conversation_can_monitor(user, message.conversation):
        return message
    raise NotFound("Message not found.")


def attachment_get_for(user: User, attachment_id: Any) -> Attachment:
    """A file of a message the user may read (not of a deleted message); 404 otherwise."""
    cleared = Participant.objects.filter(
        user=user, conversation_id=OuterRef("message__conversation_id"), cleared_seq__gte=OuterRef("message__seq")
    )
    attachment = (
        Attachment.objects.filter(
            pk=id_or_404(attachment_id, "File"),
            message__isnull=False,
            message__deleted_at__isnull=True,
            message__conversation_id__in=readable_conversation_ids(user),
        )
        .exclude(Exists(cleared))  # a message whose history the caller cleared
        .first()
    )
    if attachment is None:
        raise NotFound("File not found.")
    return attachment


def participant_user_ids(conversation_id: int) -> list[int]:
    return list(Participant.objects.filter(conversation_id=conversation_id).values_list("user_id", flat=True))


def contact_user_ids(user: User) -> list[int]:
    """Everyone who shares a conversation with `user` (who should see their presence)."""
    mine = Participant.objects.filter(user=user).values("conversation_id")
    return list(
        Participant.objects.filter(conversation_id__in=mine)
        .exclude(user=user)
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()  # no default ordering: one row per person
    )


def presence_visible_users(user: User, ids: list[int]) -> dict[int, User]:
    """{id: user} of those among `ids` whose presence `user` may see: people they may see anyway,
    and people who share a conversation with them."""
    visible = {person.pk: person for person in user_list_for(user).filter(pk__in=ids)}
    shared = set(contact_user_ids(user)) & set(ids)
    for person in User.objects.filter(pk__in=shared - set(visible)):
        visible[person.pk] = person
    return visible


# --- contacts -----------------------------------------------------------------------------


def contact_candidates_for(user: User) -> QuerySet[User]:
    """People `user` may start a conversation with (the role table).

    students: the consultants of their leads (leads that reach them: never another office's) and their
    office's staff;
    office staff: everyone in their office, and the super admins; super admin: anyone.
    """
    people = User.objects.filter(is_active=True).exclude(pk=user.pk).select_related("office")
    if not user.is_active:
        return people.none()
    if user.role == Role.SUPER_ADMIN:
        return people
    if user.role == Role.STUDENT:
        return people.filter(
            leads_reaching_q(user, "assigned_leads__")
            | Q(office_id=user.office_id, office__isnull=False, role__in=STAFF_ROLES - {Role.SUPER_ADMIN})
        ).distinct()
    return people.filter(Q(office_id=user.office_id) | Q(role=Role.SUPER_ADMIN))


def direct_conversation_with(user: User, other_user_id: Any) -> Conversation:
    key = Conversation.direct_key_for(user.pk, id_or_404(other_user_id))
    membership = (
        Participant.objects.filter(conversation__direct_key=key, user=user).select_related("conversation").first()
    )
    if membership is None:
        raise NotFound("No direct conversation with this user.")
    return membership.conversation
