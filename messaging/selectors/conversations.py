"""Conversation lists and figures: the inbox, the monitors' lists, unread counts. Who may read
what is decided in `access`; these shape what it lets through, computed in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, TypedDict, cast

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest

from accounts.models import Role, User
from core.errors import NotFound
from messaging.models import CannedReply, Conversation, Participant
from messaging.selectors.access import (
    Reach,
    id_or_404,
    monitorable_conversations,
    monitoring_reach,
    triage_of_membership,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Waiting(TypedDict):
    waiting_for_staff: bool


class _Unread(TypedDict):
    unread: int
    unread_conversations: int


class _InboxCounts(TypedDict):
    unread_count: int
    waiting_for_staff: bool
    triage: str


# A conversation as `_with_display` gives it; a membership as `conversation_list_for` does.
DisplayedConversation: TypeAlias = "WithAnnotations[Conversation, _Waiting]"
InboxMembership: TypeAlias = "WithAnnotations[Participant, _InboxCounts]"
ConsultantUnread: TypeAlias = "WithAnnotations[User, _Unread]"


def _waiting_for_staff(path: str = "") -> Q:
    """Someone waits for a staff reply: the newest message is a student's (and not deleted)."""
    return Q(**{f"{path}last_message__sender__role": Role.STUDENT, f"{path}last_message__deleted_at__isnull": True})


def _with_display(queryset: QuerySet[Conversation]) -> QuerySet[DisplayedConversation]:
    """Last message with its sender and files, people, and `waiting_for_staff`."""
    return (
        queryset.select_related("last_message__sender")
        .prefetch_related(
            "last_message__attachments",
            Prefetch("participants", queryset=Participant.objects.select_related("user").order_by("id")),
        )
        .annotate(waiting_for_staff=ExpressionWrapper(_waiting_for_staff(), output_field=BooleanField()))
    )


def _people_match(query: str) -> Q:
    """Conversations titled so, or with someone of that name or email in them (one subquery)."""
    named = Participant.objects.filter(conversation_id=OuterRef("conversation_id")).filter(
        Q(user__first_name__icontains=query) | Q(user__last_name__icontains=query) | Q(user__email__icontains=query)
    )
    return Q(conversation__title__icontains=query) | Q(Exists(named))


def conversation_list_for(
    user: User,
    *,
    archived: bool | None = None,
    pinned: bool | None = None,
    status: str | None = None,
    q: str = "",
) -> QuerySet[InboxMembership]:
    """The caller's memberships, most recent activity first; each carries its conversation, and
    `unread_count`, `waiting_for_staff` and `triage` (open, resolved, snoozed: `triage_of_membership`).
    `status` keeps one triage; `q` the conversations whose title or people match."""
    memberships = Participant.objects.filter(user=user, user__is_active=True)
    if archived is not None:
        memberships = memberships.filter(is_archived=archived)
    if pinned is not None:
        memberships = memberships.filter(is_pinned=pinned)
    memberships = memberships.annotate(triage=triage_of_membership())
    if status is not None:
        memberships = memberships.filter(triage=status)
    q = q.replace("\x00", "").strip()  # PostgreSQL text holds no NUL: a typed one matches nothing more
    if q:
        memberships = memberships.filter(_people_match(q))
    # Unread = messages past the read pointer, computed by the database from the two pointers.
    memberships = memberships.annotate(
        unread_count=Greatest(F("conversation__last_seq") - F("last_read_seq"), Value(0)),
        waiting_for_staff=ExpressionWrapper(_waiting_for_staff("conversation__"), output_field=BooleanField()),
    )
    return (
        memberships.select_related("conversation__last_message__sender")
        .prefetch_related(
            "conversation__last_message__attachments",
            Prefetch("conversation__participants", queryset=Participant.objects.select_related("user").order_by("id")),
        )
        .order_by("-conversation__last_activity_at", "-conversation_id")
    )


def conversation_detail(conversation_id: int) -> Conversation:
    return _with_display(Conversation.objects.filter(pk=conversation_id)).get()


def participants_of(conversation: Conversation) -> QuerySet[Participant]:
    return Participant.objects.filter(conversation=conversation).select_related("user").order_by("id")


def monitoring_list(user: User, *, office_id: int | None = None) -> QuerySet[DisplayedConversation]:
    conversations = monitorable_conversations(user)
    if office_id is not None:
        conversations = conversations.filter(office_id=office_id)
    return _with_display(conversations).order_by("-last_activity_at", "-id")


def conversations_waiting_for_staff(conversations: QuerySet[Conversation]) -> QuerySet[DisplayedConversation]:
    """Those whose newest message is a student's (someone waits for a staff reply), longest wait first."""
    return _with_display(conversations.filter(_waiting_for_staff())).order_by("last_message__created_at", "id")


def unread_by_consultant(user: User, *, office_id: int | None = None) -> QuerySet[ConsultantUnread]:
    """The consultants of the offices `user` monitors, each with `unread` (messages past their read
    pointers) and `unread_conversations`, most unread first. One query."""
    reach = monitoring_reach(user)
    if reach is Reach.NONE:
        return cast("QuerySet[ConsultantUnread]", User.objects.none())
    consultants = User.objects.filter(role=Role.CONSULTANT, is_active=True).select_related("office")
    if reach is Reach.OFFICE:
        consultants = consultants.filter(office=user.office_id)
    if office_id is not None:
        consultants = consultants.filter(office_id=office_id)
    behind = F("conversation_memberships__conversation__last_seq") - F("conversation_memberships__last_read_seq")
    return consultants.annotate(
        unread=Coalesce(Sum(Greatest(behind, Value(0))), Value(0)),
        unread_conversations=Count(
            "conversation_memberships",
            filter=Q(conversation_memberships__conversation__last_seq__gt=F("conversation_memberships__last_read_seq")),
        ),
    ).order_by("-unread", "first_name", "last_name", "id")


def unread_total_for(user: User) -> dict[str, int]:
    """The badge: unread messages over every conversation of `user` (archived and muted ones
    included), and in how many conversations. One query."""
    totals = Participant.objects.filter(
        user=user,
        user__is_active=True,
        last_read_seq__lt=F("conversation__last_seq"),
    ).aggregate(messages=Sum(F("conversation__last_seq") - F("last_read_seq")), conversations=Count("id"))
    return {"unread_count": totals["messages"] or 0, "unread_conversations": totals["conversations"]}


def unread_total(user: User) -> int:
    """Messages past the user's read pointers in all their conversations. One query."""
    return unread_total_for(user)["unread_count"]


def conversation_title_for(conversation: Conversation, user: User) -> str:
    """Its title, or the other people's names (participants must be prefetched)."""
    if conversation.title:
        return conversation.title
    others = [p.user.full_name for p in conversation.participants.all() if p.user_id != user.pk]
    return ", ".join(others) or "Only you"


def cleared_seqs_for(user: User) -> dict[int, int]:
    """{conversation_id: cleared_seq} of the conversations whose history `user` cleared."""
    return dict(Participant.objects.filter(user=user, cleared_seq__gt=0).values_list("conversation_id", "cleared_seq"))


def member_conversations_state(user: User) -> list[tuple[int, int, int]]:
    """(conversation id, its last seq, the user's unread count) of every conversation `user` takes
    part in (a socket follows all of them, from that seq on; its `ready` frame lists them). One query."""
    return list(
        Participant.objects.filter(user=user)
        .annotate(unread=Greatest(F("conversation__last_seq") - F("last_read_seq"), Value(0)))
        .values_list("conversation_id", "conversation__last_seq", "unread")
    )


def conversations_last_seq(conversation_ids: list[int]) -> dict[int, int]:
    """{conversation id: its last seq} of these conversations."""
    return dict(Conversation.objects.filter(pk__in=conversation_ids).values_list("id", "last_seq"))


def canned_replies_for(user: User) -> QuerySet[CannedReply]:
    """The canned replies `user` may use: their office's (a super admin: every office's); none for students."""
    replies = CannedReply.objects.select_related("office").order_by("office__name", "shortcut")
    if not (user.is_active and user.is_staff):
        return replies.none()
    if user.role == Role.SUPER_ADMIN:
        return replies.all()
    return replies.filter(office=user.office_id)


def canned_reply_get_for(user: User, reply_id: object) -> CannedReply:
    try:
        return canned_replies_for(user).get(pk=id_or_404(reply_id, "Canned reply"))
    except CannedReply.DoesNotExist:
        raise NotFound("Canned reply not found.") from None
