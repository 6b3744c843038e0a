"""What changed for a user since a point they hold: the reads behind `GET sync`.

The point is a transaction horizon, not an id or a timestamp. Ids and times are taken when a row
is written, not when its transaction commits: a message written first and committed last carries
a smaller id and an earlier time than one a reader has already seen, and a cursor made of either
skips it (messaging/tests/test_sync.py shows it). Every row version records the transaction that
wrote it (the `xmin` system column). The horizon is the oldest transaction still running when the
cursor is made (`pg_snapshot_xmin(pg_current_snapshot())`): every transaction before it has
finished, so the reads that follow see all of their rows, and a row written by that transaction or
a later one is "changed since" the cursor and comes next time, whenever it commits.

Why not the snapshot's exact visibility (`pg_visible_in_snapshot`): a row written inside a
savepoint (Django's nested `atomic`) carries its subtransaction's id, which a snapshot does not
list, so a row of a transaction still running would pass for one already seen. The horizon has no
such hole; its price is repeats: rows committed while an older transaction was still running come
again in the next answer. Clients drop what they already have (by id and seq).

Sends and receipts update the conversation and participant rows, so a changed conversation is found
from the user's memberships (one index scan of `messaging_participant` by user). Edits and deletes
write only the message row: they are found through `message_edited_or_deleted`, a partial index a
send never writes to.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from accounts.models import User
from messaging.models import Participant
from messaging.selectors.conversations import InboxMembership, conversation_list_for
from messaging.selectors.history import _PAGE_COLUMNS, MessageRow, _message_rows
from notifications.models import Notification

MESSAGES_PER_CONVERSATION = 50  # the newest changes of a conversation; more: page with after=<seq>
CONVERSATIONS_PER_ANSWER = 100  # changed conversations in one answer; more: call again with the cursor
NOTIFICATIONS_PER_ANSWER = 100


@dataclass(frozen=True)
class Horizon:
    """Transaction ids (64-bit): `oldest`, the oldest still running when it was taken (a cursor's
    point), and `next`, the first not yet assigned."""

    oldest: int
    next: int


# The oldest transaction of *this* database still running, read from pg_stat_activity after the
# statement's snapshot was taken (so any transaction older than the snapshot's xmax that is still
# running is listed), and the prepared ones; the whole server's oldest when another role's sessions
# are hidden from us (no pg_read_all_stats): a transaction we cannot see must not be skipped.
# Transactions of other databases on the same server cannot write our rows, and would otherwise
# hold the horizon back (repeats) for as long as they run.
_HORIZON_SQL = """
WITH s AS (SELECT pg_current_snapshot() AS snap),
nx AS (SELECT pg_snapshot_xmax(snap)::text::bigint AS next FROM s),
running AS (
    SELECT backend_xid AS x, query FROM pg_stat_activity WHERE datname = current_database()
    UNION ALL SELECT transaction, '' FROM pg_prepared_xacts WHERE database = current_database()
)
SELECT CASE WHEN EXISTS (SELECT 1 FROM running WHERE query = '<insufficient privilege>')
    THEN pg_snapshot_xmin(s.snap)::text::bigint
    ELSE least(nx.next, (SELECT min(%s) FROM running WHERE x IS NOT NULL)) END,
    nx.next
FROM s, nx
"""


def current_horizon() -> Horizon:
    with connection.cursor() as cursor:
        cursor.execute(_HORIZON_SQL % _wide("x"))
        oldest, next_xid = cursor.fetchone()
    return Horizon(oldest, next_xid)


def _wide(xid: str) -> str:
    """SQL: a 32-bit xid widened to the 64-bit one nearest the next transaction id (a transaction that
    began after the snapshot is a little ahead of it, not an epoch behind)."""
    x = f"({xid})::text::bigint"
    return f"(nx.next + (((({x} - (nx.next & 4294967295)) + 2147483648) & 4294967295) - 2147483648))"


def _changed(xmin: str) -> str:
    """SQL: the row was written by the transaction at `since` (the cursor's horizon) or a later one.
    `age()` counts back from the same point for both (xid arithmetic modulo 2^32, frozen rows the
    oldest of all), with no text casts per row: 5,000 rows in ~2 ms."""
    # (the right side as a subquery: computed once, not once a row)
    return f"(age({xmin}) <= (SELECT age((%(since)s::bigint & 4294967295)::text::xid)))"


# A conversation of the user changed: its row (sends, title), a participant's row (reads, receipts,
# flags, joins), or an edited or deleted message (through the partial index). Set operations over
# the user's memberships, not a probe per membership: ~10 ms for 5,000 conversations.
_CHANGED_CONVERSATIONS_SQL = f"""
WITH mine AS (
    SELECT conversation_id FROM messaging_participant WHERE user_id = %(user)s AND conversation_id > %(after)s
)
SELECT id FROM (
    SELECT c.id FROM mine JOIN messaging_conversation c ON c.id = mine.conversation_id
    WHERE {_changed("c.xmin")}
    UNION
    SELECT o.conversation_id FROM mine JOIN messaging_participant o ON o.conversation_id = mine.conversation_id
    WHERE {_changed("o.xmin")}
    UNION
    SELECT m.conversation_id FROM mine JOIN messaging_message m ON m.conversation_id = mine.conversation_id
    WHERE (m.edited_at IS NOT NULL OR m.deleted_at IS NOT NULL) AND {_changed("m.xmin")}
) changed
ORDER BY id LIMIT %(limit)s
"""

# Per conversation: the newest messages past the user's cleared_seq that changed (new ones, or
# recent ones edited), one more than the cap to tell whether there were more; and any older ones
# edited or deleted since. `rn` is a message's place from the newest (0: found as edited/deleted).
_CHANGED_MESSAGES_SQL = f"""
WITH mine AS (
    SELECT conversation_id, cleared_seq FROM messaging_participant
    WHERE user_id = %(user)s AND conversation_id = ANY(%(conversations)s)
),
changed AS (
    SELECT recent.id, recent.rn FROM mine CROSS JOIN LATERAL (
        SELECT m.id, m.xmin AS x, row_number() OVER (ORDER BY m.seq DESC) AS rn FROM messaging_message m
        WHERE m.conversation_id = mine.conversation_id AND m.seq > mine.cleared_seq
        ORDER BY m.seq DESC LIMIT %(per)s + 1
    ) recent WHERE {_changed("recent.x")}
    UNION ALL
    SELECT m.id, 0 FROM mine JOIN messaging_message m ON m.conversation_id = mine.conversation_id
    WHERE m.seq > mine.cleared_seq AND (m.edited_at IS NOT NULL OR m.deleted_at IS NOT NULL) AND {_changed("m.xmin")}
),
ranked AS (SELECT id, min(rn) AS rn, max(rn) AS last FROM changed GROUP BY id)
SELECT ranked.rn, ranked.last, {_PAGE_COLUMNS}
FROM ranked JOIN messaging_message m ON m.id = ranked.id LEFT JOIN accounts_user u ON u.id = m.sender_id
ORDER BY m.conversation_id, m.seq
"""


@dataclass
class Changes:
    conversations: list[InboxMembership]
    messages: list[MessageRow]
    capped: list[int]  # conversations with more new messages than MESSAGES_PER_CONVERSATION
    read_marks: list[tuple[int, int, int]]  # (conversation id, user id, last read seq)
    notifications: list[Notification]
    more_conversations: bool
    more_notifications: bool
    conversations_after: int  # the highest conversation id of this answer: where the next one starts


def changes_for(user: User, *, since: int, after_conversation: int = 0, after_notification: int = 0) -> Changes:
    """Everything of `user`'s that changed since the horizon `since`: their conversations that did
    (with `after_conversation` < id, in id order, at most CONVERSATIONS_PER_ANSWER), those
    conversations' new, edited and deleted messages and read pointers, and the user's new or
    re-read notifications (id > `after_notification`). Six queries, whatever the numbers."""
    params = {"user": user.pk, "since": since}
    with connection.cursor() as cursor:
        cursor.execute(
            _CHANGED_CONVERSATIONS_SQL, {**params, "after": after_conversation, "limit": CONVERSATIONS_PER_ANSWER + 1}
        )
        ids = [row[0] for row in cursor.fetchall()]
    more_conversations = len(ids) > CONVERSATIONS_PER_ANSWER
    ids = ids[:CONVERSATIONS_PER_ANSWER]
    conversations: list[InboxMembership] = []
    messages: list[MessageRow] = []
    capped: set[int] = set()
    read_marks: list[tuple[int, int, int]] = []
    if ids:
        conversations = list(conversation_list_for(user).filter(conversation_id__in=ids))  # three queries
        with connection.cursor() as cursor:
            cursor.execute(_CHANGED_MESSAGES_SQL, {**params, "conversations": ids, "per": MESSAGES_PER_CONVERSATION})
            rows = cursor.fetchall()
        kept = []
        for rn, last, *row in rows:
            if last > MESSAGES_PER_CONVERSATION:
                capped.add(row[1])  # (row[1]: the conversation id)
            if 0 < rn <= MESSAGES_PER_CONVERSATION or rn == 0:
                kept.append(tuple(row))
        messages = _message_rows(kept)
        read_marks = list(
            Participant.objects.filter(conversation_id__in=ids)
            .order_by("conversation_id", "user_id")
            .values_list("conversation_id", "user_id", "last_read_seq")
        )
    notifications = list(
        Notification.objects.filter(recipient=user, id__gt=after_notification)
        .filter(_changed_expression("notifications_notification.xmin", since))
        .order_by("id")[: NOTIFICATIONS_PER_ANSWER + 1]
    )
    more_notifications = len(notifications) > NOTIFICATIONS_PER_ANSWER
    return Changes(
        conversations=conversations,
        messages=messages,
        capped=sorted(capped),
        read_marks=read_marks,
        notifications=notifications[:NOTIFICATIONS_PER_ANSWER],
        more_conversations=more_conversations,
        more_notifications=more_notifications,
        conversations_after=ids[-1] if ids else after_conversation,
    )


def _changed_expression(xmin: str, since: int) -> RawSQL:
    sql = _changed(xmin).replace("%(since)s", "%s")
    return RawSQL(sql, [since], output_field=BooleanField())
