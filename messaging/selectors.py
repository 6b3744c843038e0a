"""Reads of conversations and messages, scoped to what the user may see."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import NamedTuple

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Greatest

from accounts.models import STAFF_ROLES, Role, User
from core.db import prepared_cursor
from core.errors import NotFound
from messaging.models import Conversation, Message, Participant


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound("Conversation not found.") from None


def _with_display(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    return queryset.select_related("last_message__sender").prefetch_related(
        "last_message__attachments",
        Prefetch("participants", queryset=Participant.objects.select_related("user").order_by("id")),
    )


def conversation_list_for(user: User, *, archived: bool | None = None, pinned: bool | None = None) -> QuerySet[Participant]:
    """The caller's memberships, most recent activity first; each carries its conversation."""
    memberships = Participant.objects.filter(user=user, user__is_active=True)
    if archived is not None:
        memberships = memberships.filter(is_archived=archived)
    if pinned is not None:
        memberships = memberships.filter(is_pinned=pinned)
    # Unread = messages past the read pointer, computed by the database from the two pointers.
    memberships = memberships.annotate(
        unread_count=Greatest(F("conversation__last_seq") - F("last_read_seq"), Value(0))
    )
    return memberships.select_related("conversation__last_message__sender").prefetch_related(
        "conversation__last_message__attachments",
        Prefetch("conversation__participants", queryset=Participant.objects.select_related("user").order_by("id")),
    ).order_by("-conversation__last_activity_at", "-conversation_id")


def membership_get(user: User, conversation_id) -> Participant:
    """The caller's membership; 404 when they are not (or no longer) in the conversation."""
    try:
        return Participant.objects.select_related("conversation").get(
            conversation_id=_int(conversation_id), user=user, user__is_active=True
        )
    except Participant.DoesNotExist:
        raise NotFound("Conversation not found.") from None


def conversation_get_for(user: User, conversation_id) -> Conversation:
    """A conversation the user takes part in (404 otherwise)."""
    return membership_get(user, conversation_id).conversation


def monitors_every_conversation(user: User) -> bool:
    return user.is_active and user.role == Role.SUPER_ADMIN


def monitorable_conversations(user: User) -> QuerySet[Conversation]:
    """Conversations `user` may monitor read-only: a manager their office's, a super admin all."""
    if not user.is_active:
        return Conversation.objects.none()
    if monitors_every_conversation(user):
        return Conversation.objects.all()
    if user.role == Role.MANAGER:
        return Conversation.objects.filter(office_id=user.office_id)
    return Conversation.objects.none()


def conversation_can_monitor(user: User, conversation: Conversation) -> bool:
    return monitorable_conversations(user).filter(pk=conversation.pk).exists()


def conversation_get_for_monitoring(user: User, conversation_id) -> Conversation:
    try:
        return monitorable_conversations(user).get(pk=_int(conversation_id))
    except Conversation.DoesNotExist:
        raise NotFound("Conversation not found.") from None


def conversation_access(user: User, conversation_id) -> tuple[Conversation, Participant | None]:
    """Read access as participant (membership returned) or as monitor (None); 404 otherwise."""
    membership = (
        Participant.objects.select_related("conversation")
        .filter(conversation_id=_int(conversation_id), user=user, user__is_active=True)
        .first()
    )
    if membership is not None:
        return membership.conversation, membership
    return conversation_get_for_monitoring(user, conversation_id), None


def conversation_detail(conversation_id: int) -> Conversation:
    return _with_display(Conversation.objects.filter(pk=conversation_id)).get()


def monitoring_list(user: User, *, office_id: int | None = None) -> QuerySet[Conversation]:
    conversations = monitorable_conversations(user)
    if office_id is not None:
        conversations = conversations.filter(office_id=office_id)
    return _with_display(conversations).order_by("-last_activity_at", "-id")


def conversations_waiting_for_staff(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Those whose newest message is a student's (someone waits for a staff reply), longest wait first."""
    return _with_display(conversations.filter(
        last_message__sender__role=Role.STUDENT, last_message__deleted_at__isnull=True,
    )).order_by("last_message__created_at", "id")


def member_conversations(user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(participants__user=user, participants__user__is_active=True)


def unread_by_consultant(user: User, *, office_id: int | None = None) -> QuerySet[User]:
    """The consultants of the offices `user` monitors, each with `unread` (messages past their read
    pointers) and `unread_conversations`, most unread first. One query."""
    if not user.is_active or user.role not in (Role.SUPER_ADMIN, Role.MANAGER):
        return User.objects.none()
    consultants = User.objects.filter(role=Role.CONSULTANT, is_active=True).select_related("office")
    if user.role == Role.MANAGER:
        consultants = consultants.filter(office_id=user.office_id)
    if office_id is not None:
        consultants = consultants.filter(office_id=office_id)
    behind = F("conversation_memberships__conversation__last_seq") - F("conversation_memberships__last_read_seq")
    return consultants.annotate(
        unread=Coalesce(Sum(Greatest(behind, Value(0))), Value(0)),
        unread_conversations=Count("conversation_memberships", filter=Q(
            conversation_memberships__conversation__last_seq__gt=F("conversation_memberships__last_read_seq"))),
    ).order_by("-unread", "first_name", "last_name", "id")


def unread_total(user: User) -> int:
    """Messages past the user's read pointers in all their conversations. One query."""
    return unread_total_for(user)["unread_count"]


def conversation_title_for(conversation: Conversation, user: User) -> str:
    """Its title, or the other people's names (participants must be prefetched)."""
    if conversation.title:
        return conversation.title
    others = [p.user.full_name for p in conversation.participants.all() if p.user_id != user.pk]
    return ", ".join(others) or "Only you"


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
_MAX_ID = 2**63 - 1


def _page_query(before: int | None, after: int | None) -> tuple[str, int | None]:
    if after is not None:
        return "after", min(after, _MAX_ID)
    if before is not None:
        return "before", min(before, _MAX_ID)
    return "latest", None


def _message_rows(rows) -> list[MessageRow]:
    senders: dict[int, SenderRow] = {}
    messages = []
    for (id, conversation_id, seq, sender_id, type, content, reply_to_id, created_at, edited_at, deleted_at,
         user_id, email, first_name, last_name, role, office_id, files) in rows:
        sender = None
        if user_id is not None:
            sender = senders.get(user_id)
            if sender is None:
                sender = senders[user_id] = SenderRow(user_id, email, first_name, last_name, role, office_id)
        messages.append(MessageRow(
            id, conversation_id, seq, sender_id, type, content, reply_to_id, created_at, edited_at, deleted_at,
            sender, [FileRow(*f) for f in files] if files else [],
        ))
    return messages


def _page(rows: list, key: str, limit: int) -> tuple[list[MessageRow], bool]:
    more = len(rows) > limit
    rows = rows[:limit]
    if key != "after":
        rows.reverse()  # fetched newest first; pages read oldest first
    return _message_rows(rows), more


def messages_page(conversation: Conversation, *, before: int | None = None, after: int | None = None, limit: int = 50):
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


def messages_page_for(user: User, conversation_id, *, before: int | None = None, after: int | None = None,
                      limit: int = 50) -> tuple[list[MessageRow], bool] | None:
    """`messages_page` of a conversation the user takes part in, membership checked in the same
    query; None when they are not (or no longer) a participant: the caller then tries monitoring."""
    conversation_id = _int(conversation_id)
    if not user.is_active or not 0 < conversation_id <= _MAX_ID:
        return None
    key, seq = _page_query(before, after)
    with prepared_cursor() as cursor:
        cursor.execute(_MEMBER_PAGE_SQL[key],
                       {"conversation": conversation_id, "user": user.pk, "seq": seq, "limit": limit + 1})
        rows = cursor.fetchall()
    if not rows[0][0]:
        return None
    return _page([row[1:] for row in rows if row[1] is not None], key, limit)


def load_attachments(messages: list[Message]) -> list[Message]:
    """The files of these messages in one query, or none when no message carries files (only
    image, video and file messages do). Cheaper than prefetch_related on hot pages."""
    from collections import defaultdict

    from messaging.models import Attachment, MessageType

    ids = [m.id for m in messages if m.type in (MessageType.IMAGE, MessageType.VIDEO, MessageType.FILE)]
    files = defaultdict(list)
    if ids:
        for attachment in Attachment.objects.filter(message_id__in=ids).order_by("id"):
            files[attachment.message_id].append(attachment)
    for message in messages:
        message.loaded_attachments = files.get(message.id, [])
    return messages


def message_get_for(user: User, message_id) -> Message:
    """A message in a conversation the user takes part in or monitors; 404 otherwise."""
    try:
        message = Message.objects.select_related("conversation", "sender").get(pk=int(message_id))
    except (Message.DoesNotExist, TypeError, ValueError):
        raise NotFound("Message not found.") from None
    cleared = (Participant.objects.filter(conversation_id=message.conversation_id, user=user, user__is_active=True)
               .values_list("cleared_seq", flat=True).first())
    if cleared is not None:
        if message.seq <= cleared:  # the caller cleared their history past it
            raise NotFound("Message not found.")
        return message
    if conversation_can_monitor(user, message.conversation):
        return message
    raise NotFound("Message not found.")


def unread_total_for(user: User) -> dict:
    """The badge: unread messages over every conversation of `user` (archived and muted ones
    included), and in how many conversations. One query."""
    totals = Participant.objects.filter(
        user=user, user__is_active=True, last_read_seq__lt=F("conversation__last_seq"),
    ).aggregate(messages=Sum(F("conversation__last_seq") - F("last_read_seq")), conversations=Count("id"))
    return {"unread_count": totals["messages"] or 0, "unread_conversations": totals["conversations"]}


def cleared_seqs_for(user: User) -> dict[int, int]:
    """{conversation_id: cleared_seq} of the conversations whose history `user` cleared."""
    return dict(Participant.objects.filter(user=user, cleared_seq__gt=0).values_list("conversation_id", "cleared_seq"))


def member_conversations_last_seq(user: User) -> list[tuple[int, int]]:
    """(conversation id, its last seq) of every conversation `user` takes part in (a socket follows
    all of them, from that seq on)."""
    return list(Participant.objects.filter(user=user).values_list("conversation_id", "conversation__last_seq"))


def conversations_last_seq(conversation_ids: list[int]) -> dict[int, int]:
    """{conversation id: its last seq} of these conversations."""
    return dict(Conversation.objects.filter(pk__in=conversation_ids).values_list("id", "last_seq"))


def messages_after(positions: dict[int, int], *, limit: int) -> list[tuple[Message, list[int]]]:
    """The messages after each conversation's seq in `positions` (at most `limit` in all, oldest
    first), each with the conversation's participants: what a process's sockets missed."""
    if not positions:
        return []
    after = Q()
    for conversation_id, seq in positions.items():
        after |= Q(conversation_id=conversation_id, seq__gt=seq)
    rows = load_attachments(list(Message.objects.filter(after).select_related("sender")
                                 .order_by("conversation_id", "seq")[:limit]))
    members = defaultdict(list)
    for conversation_id, user_id in Participant.objects.filter(
            conversation_id__in={m.conversation_id for m in rows}).values_list("conversation_id", "user_id"):
        members[conversation_id].append(user_id)
    return [(message, members[message.conversation_id]) for message in rows]


def participant_user_ids(conversation_id: int) -> list[int]:
    return list(Participant.objects.filter(conversation_id=conversation_id).values_list("user_id", flat=True))


def contact_user_ids(user: User) -> list[int]:
    """Everyone who shares a conversation with `user` (who should see their presence)."""
    mine = Participant.objects.filter(user=user).values("conversation_id")
    return list(
        Participant.objects.filter(conversation_id__in=mine).exclude(user=user)
        .order_by().values_list("user_id", flat=True).distinct()  # no default ordering: one row per person
    )


def contact_candidates_for(user: User) -> QuerySet[User]:
    """People `user` may start a conversation with (the role table).

    students: the consultants assigned to their leads and their office's staff;
    office staff: everyone in their office, and the super admins; super admin: anyone.
    """
    people = User.objects.filter(is_active=True).exclude(pk=user.pk).select_related("office")
    if not user.is_active:
        return people.none()
    if user.role == Role.SUPER_ADMIN:
        return people
    if user.role == Role.STUDENT:
        return people.filter(
            Q(assigned_leads__student=user)
            | Q(office_id=user.office_id, office__isnull=False, role__in=STAFF_ROLES - {Role.SUPER_ADMIN})
        ).distinct()
    return people.filter(Q(office_id=user.office_id) | Q(role=Role.SUPER_ADMIN))


def direct_conversation_with(user: User, other_user_id) -> Conversation:
    key = Conversation.direct_key_for(user.pk, _int(other_user_id))
    membership = Participant.objects.filter(conversation__direct_key=key, user=user).select_related("conversation").first()
    if membership is None:
        raise NotFound("No direct conversation with this user.")
    return membership.conversation


def readable_conversation_ids(user: User) -> QuerySet:
    """Conversations whose messages `user` may read: theirs, and those they monitor."""
    mine = Participant.objects.filter(user=user, user__is_active=True).values("conversation_id")
    monitored = monitorable_conversations(user).values("id")
    return Conversation.objects.filter(Q(id__in=mine) | Q(id__in=monitored)).values("id")


HIGHLIGHT_START, HIGHLIGHT_STOP = "\ue000", "\ue001"  # private-use markers, stripped from content


# How message_search looks for the N newest matches: see _newest_matches. Measured with
# bench/messaging_bench.py (1M messages); the figures are in docs/performance.md.
SEARCH_PROBE_IDS_PER_CANDIDATE = 20  # the probe walks the newest 20·N ids
SEARCH_WALK_IDS_PER_CANDIDATE = 60  # a step walks when it should pass at most 60·N ids
SEARCH_STEPS = 6  # steps after the probe; the last takes every id left


def message_search(
    user: User, *, q: str, conversation_id=None, type=None, sender_id=None, file_type=None,
    date_from=None, date_to=None, offset: int = 0, limit: int = 20,
):
    """Ranked full-text search over the stored vector, only where `user` may read.

    Only the MESSAGE_SEARCH_MAX_CANDIDATES newest matches are ranked, so a very common word costs
    about what a rare one does. Queries: the readable conversations (not for a super admin), the
    newest id and one to seven steps for the candidates (see `_newest_matches`), the page's rows
    with snippets (and one for files when a hit carries some).
    """
    from django.conf import settings
    from django.contrib.postgres.search import SearchHeadline, SearchQuery
    from django.db.models import Exists, OuterRef, Subquery

    from messaging.models import Attachment

    if not settings.MESSAGE_SEARCH_ENABLED:
        raise NotFound("Message search is turned off on this server.", code="search_disabled")
    config = settings.MESSAGE_SEARCH_CONFIG
    candidates = settings.MESSAGE_SEARCH_MAX_CANDIDATES
    scope = Message.objects.filter(deleted_at__isnull=True)
    few_readable = False
    if not monitors_every_conversation(user):
        readable = readable_conversation_ids(user).annotate(cleared=Subquery(
            Participant.objects.filter(conversation_id=OuterRef("id"), user=user).values("cleared_seq")[:1]))
        rows = list(readable.values_list("id", "last_seq", "cleared"))
        sizes = {conversation: size for conversation, size, _ in rows}
        cleared = {conversation: seq for conversation, _, seq in rows if seq}
        if not sizes:
            return [], False
        # A constant list, not a subquery: the planner then knows how many messages it covers.
        scope = scope.filter(conversation_id__in=list(sizes))
        # No more readable messages than candidates: reading them beats a GIN scan of everyone's matches.
        few_readable = (sizes.get(conversation_id, 0) if conversation_id is not None else sum(sizes.values())) <= candidates
    else:
        cleared = cleared_seqs_for(user)
    for cleared_conversation, seq in cleared.items():  # "clear my history" hides these from the caller
        scope = scope.exclude(conversation_id=cleared_conversation, seq__lte=seq)
    if conversation_id is not None:
        scope = scope.filter(conversation_id=conversation_id)
    if type:
        scope = scope.filter(type=type)
    if sender_id is not None:
        scope = scope.filter(sender_id=sender_id)
    if file_type:
        scope = scope.filter(Exists(Attachment.objects.filter(message=OuterRef("pk"), mime_type__startswith=file_type)))
    if date_from is not None:
        scope = scope.filter(created_at__gte=date_from)
    if date_to is not None:
        scope = scope.filter(created_at__lt=date_to)
    found = _newest_matches(scope.order_by(), q, config, candidates, few_readable=few_readable)
    found.sort(key=lambda hit: (-hit[1], -hit[0]))  # best first; equal ranks newest first
    page = found[offset:offset + limit + 1]
    ranks = dict(page)
    order = {message_id: index for index, (message_id, _) in enumerate(page)}
    # Snippets (ts_headline re-parses the text, the costly part) for the returned page only.
    query = SearchQuery(q, search_type="websearch", config=config)
    rows = sorted(
        # (a hit deleted since its step was read is left out)
        Message.objects.filter(id__in=[message_id for message_id, _ in page[:limit]], deleted_at__isnull=True)
        .order_by()
        .select_related("sender")
        .annotate(snippet=SearchHeadline("content", query, config=config, start_sel=HIGHLIGHT_START,
                                         stop_sel=HIGHLIGHT_STOP, max_fragments=2, max_words=30, min_words=10)),
        key=lambda message: order[message.id],
    )
    for message in rows:
        message.rank = ranks[message.id]
    return load_attachments(rows), len(page) > limit


def _newest_matches(scope: QuerySet[Message], q: str, config: str, n: int, *,
                    few_readable: bool) -> list[tuple[int, float]]:
    """(id, rank) of the `n` newest messages of `scope` that match `q`.

    What costs is reading rows. Walking the primary key down from the newest id reads every row
    it passes: cheapest while matches are dense. The GIN index knows every match in the table,
    but not its id or conversation: read through it alone, an AND of two common words is 50,000
    rows. AND'ed with the caller's conversations over an id range (index `message_conversation_id`)
    or with that id range (the primary key), its bitmap reads only the matches inside; that costs
    mostly the GIN scan, whatever the range, so one wide step beats two narrow ones. So, in steps
    that each take the ids below the last:
    - the probe walks the newest 20·n ids;
    - each next step expects the rest within the ids the hit rate so far says, and takes four
      times that (at least four times the last step if it found nothing; with no match at all
      yet, 19 times the ids looked at: the matches are rare, or old), but at most a quarter of
      the ids left: past that the planner reads every match through the GIN index alone;
      it walks if it expects to pass at most 60·n ids (a walk stops at its LIMIT);
    - the sixth step after the probe takes every id left, through the bitmaps.
    A caller who can read at most n messages is served from their conversations' rows alone.
    """
    from django.db import connection
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    table = Message._meta.db_table
    tsquery, tsquery_params = "websearch_to_tsquery(%s::regconfig, %s)", [config, q]
    # @@ written as a function (ts_match_vq) is something the GIN index cannot serve: the walk.
    walked = RawSQL(f"ts_match_vq({table}.search_vector, {tsquery})", tsquery_params, output_field=BooleanField())
    indexed = RawSQL(f"{table}.search_vector @@ {tsquery}", tsquery_params, output_field=BooleanField())

    def newest(matches: QuerySet[Message], wanted: int, *, bitmaps: bool) -> list[tuple[int, float]]:
        """The `wanted` newest of `matches`, ranked. With `bitmaps`, through the database function
        `messaging_search_matches`, which plans the query with plain index scans off (migration 0004)."""
        sql, params = matches.values("id", "search_vector").query.sql_with_params()
        sql = f"SELECT id, ts_rank(search_vector, {tsquery}) FROM ({sql} ORDER BY id DESC LIMIT %s) newest"
        params = (*tsquery_params, *params, wanted)
        with connection.cursor() as cursor:
            if bitmaps:
                sql, params = "SELECT id, rank FROM messaging_search_matches(%s)", [connection.ops.compose_sql(sql, params)]
            cursor.execute(sql, params)
            return cursor.fetchall()

    if few_readable:
        return newest(scope.filter(walked), n, bitmaps=True)
    top = Message.objects.order_by("-id").values_list("id", flat=True).first()
    if top is None:
        return []
    probe = n * SEARCH_PROBE_IDS_PER_CANDIDATE
    below = top - probe  # every id above has been looked at
    found = newest(scope.filter(walked, id__gt=below), n, bitmaps=False)
    span, step_found = probe, len(found)
    for step in range(1, SEARCH_STEPS + 1):
        if len(found) >= n or below <= 0:
            break
        expected = -(-(n - len(found)) * (top - below) // len(found)) if found else None
        if step == SEARCH_STEPS:
            span = below
        else:
            if expected is None:
                span = 19 * (top - below)
            else:
                span = max(probe, 4 * expected, 0 if step_found else 4 * span)
            span = min(span, max(probe, below // 4))
        # A walk stops at its LIMIT: what it costs is the ids it should pass, not the span. Never
        # the last step: should the matches have run out, it would pass every id left.
        walk = step < SEARCH_STEPS and expected is not None and expected <= n * SEARCH_WALK_IDS_PER_CANDIDATE
        step_found = len(found)
        found += newest(scope.filter(walked if walk else indexed, id__gt=below - span, id__lte=below),
                        n - len(found), bitmaps=not walk)
        step_found = len(found) - step_found
        below -= span
    return found


def attachment_get_for(user: User, attachment_id):
    """A file of a message the user may read (not of a deleted message); 404 otherwise."""
    from messaging.models import Attachment

    from django.db.models import Exists, OuterRef

    cleared = Participant.objects.filter(user=user, conversation_id=OuterRef("message__conversation_id"),
                                         cleared_seq__gte=OuterRef("message__seq"))
    attachment = (
        Attachment.objects.filter(pk=attachment_id, message__isnull=False, message__deleted_at__isnull=True,
                                  message__conversation_id__in=readable_conversation_ids(user))
        .exclude(Exists(cleared))  # a message whose history the caller cleared
        .first()
    )
    if attachment is None:
        raise NotFound("File not found.")
    return attachment
