"""Messages to people who are not looking: a push per conversation burst, then the missed-message email.

**On the send path** (`note_sent`, called by both sends once the message is stored) nothing but an
add to a set in memory: no database, no Redis, nothing awaited. A thread per process
(`_Scheduler`) wakes every FLUSH_SECONDS while there is something to flush and, in one Redis round
trip, adds each conversation to `push:due` with `ZADD NX` (score: when its push is due). A
conversation already there is part of a burst whose push is already coming: nothing more. For the
conversations that opened a burst it sends one job, `push_conversations`, with a countdown of
PUSH_GRACE_SECONDS: a thousand messages a second cost ~5 pipelines and ~5 jobs a second per process.

**The push job** takes its conversations off `push:due` first (a message after that opens a new
burst), then reads in one query who has unread messages there and is not muted (the sender's read
pointer moved with the send: never the sender), keeps those with no live socket (the socket registry,
one pipeline), whose preferences allow a message push outside their quiet hours, and pushes each one
push per conversation: the newest message (or only "New message" with private previews), how many
are unread, the unread total as the badge, the conversation's id as the collapse key. Each offline
recipient is also put on `email:due` (ZADD NX) for MISSED_MESSAGE_EMAIL_MINUTES later.

**The email job** (beat, every 30 s) takes the users whose time came, skips anyone back online or who
turned message email off, and sends each one email with every conversation's messages unread since
their last such email (`MissedMessageMark`), through `notifications.delivery` (sent once).

A job lost before it ran (Redis failed after the ZADD) leaves its conversations overdue in
`push:due`: `push_overdue` (beat) sends them.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import smtplib
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from core.jobs import Retryable, send_now
from core.outages import REDIS_ERRORS, redis_outage
from devices.models import Device
from devices.providers import Push
from messaging.models import MissedMessageMark
from messaging.socket.registry import users_with_sockets
from notifications import delivery

logger = logging.getLogger("crm.push")

FLUSH_SECONDS = 0.2
OVERDUE_SECONDS = 15  # a burst this late past its due time lost its job: the sweep sends it
PREVIEW_LENGTH = 120
JOB_RECIPIENTS = 100  # recipients a push job keeps; a bigger burst is shared out as more jobs
EMAIL_MESSAGES_PER_CONVERSATION = 5
EMAIL_USERS_PER_RUN = 500

# --- the send path's side: remember, flush in batches ----------------------------------------------


_redis_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _redis_client
    if _redis_client is None:
        _redis_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=settings.REDIS_TIMEOUT, socket_connect_timeout=settings.REDIS_TIMEOUT
        )
    return _redis_client


def _key(name: str) -> str:
    return f"{settings.REDIS_NAMESPACE}:offline:{name}"


def _now_ms() -> int:
    return int(time.time() * 1000)


# KEYS: push:due. ARGV: due (ms), conversation ids. Returns the ids that opened a burst.
_OPEN_BURSTS = """
local opened = {}
for i = 2, #ARGV do
  if redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[i]) == 1 then opened[#opened + 1] = ARGV[i] end
end
return opened
"""


class _Scheduler:
    """This process's conversations with new messages since the last flush, and the thread flushing them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: set[int] = set()
        self.thread: threading.Thread | None = None
        self.flushes = 0  # Redis round trips made (bench/push_send_path.py)
        self.first_noted = 0.0  # when the oldest pending conversation was noted

    def note(self, conversation_id: int) -> None:
        with self.lock:
            if not self.pending:
                self.first_noted = time.monotonic()
            self.pending.add(conversation_id)
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="push-scheduler", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        with self.lock:
            batch, self.pending, first_noted = self.pending, set(), self.first_noted
        if not batch:
            return
        # The grace counts from the batch's first message, not from the flush up to 200 ms later.
        countdown = max(settings.PUSH_GRACE_SECONDS - (time.monotonic() - first_noted), 0)
        if redis_outage.skip():
            redis_outage.failed("pushes dropped", skipped=True)
            return
        self.flushes += 1
        try:
            due = str(_now_ms() + int(countdown * 1000))
            opened = cast(list[bytes], _redis().eval(_OPEN_BURSTS, 1, _key("push:due"), due, *map(str, sorted(batch))))
        except REDIS_ERRORS as exc:  # stored messages stand; their push is lost (as live events are)
            redis_outage.failed("pushes dropped", exc)
            return
        except Exception:
            logger.exception("push scheduling failed")
            return
        if opened:
            from messaging.tasks import push_conversations  # noqa: PLC0415 - tasks import this module

            send_now(push_conversations, [int(c) for c in opened], countdown=countdown)


_scheduler = _Scheduler()
atexit.register(_scheduler.flush)  # a command or a stopping server flushes what it holds


def note_sent(conversation_id: int) -> None:
    """A message was stored in this conversation (after commit). Costs a set add under a lock."""
    _scheduler.note(conversation_id)


def flush_count() -> int:
    return _scheduler.flushes


def flush_now() -> None:
    """Flush at once (tests, benches, commands about to exit)."""
    _scheduler.flush()


# --- the push job ----------------------------------------------------------------------------------

_UNREAD = """
SELECT p.user_id, p.conversation_id, c.last_seq - p.last_read_seq AS unread, c.last_seq, c.type, c.title,
       m.id, m.type, m.content, m.deleted_at IS NOT NULL, m.sender_id, s.first_name, s.last_name, s.email
FROM messaging_participant p
JOIN messaging_conversation c ON c.id = p.conversation_id
JOIN accounts_user u ON u.id = p.user_id AND u.is_active
LEFT JOIN messaging_message m ON m.id = c.last_message_id
LEFT JOIN accounts_user s ON s.id = m.sender_id
WHERE p.conversation_id = ANY(%s) AND c.last_seq > p.last_read_seq
  AND (p.muted_until IS NULL OR p.muted_until <= %s)
ORDER BY p.conversation_id, p.user_id
"""

_BADGES = """
SELECT p.user_id, SUM(GREATEST(c.last_seq - p.last_read_seq, 0))
FROM messaging_participant p JOIN messaging_conversation c ON c.id = p.conversation_id
WHERE p.user_id = ANY(%s) GROUP BY p.user_id
"""


@dataclass
class _Unread:
    user_id: int
    conversation_id: int
    unread: int
    last_seq: int
    group: bool
    title: str
    message_id: int | None
    message_type: str | None
    content: str
    deleted: bool
    sender_name: str


def _sender_name(first: str | None, last: str | None, email: str | None) -> str:
    return " ".join(part for part in (first, last) if part) or email or "Someone"


def _message_push(row: _Unread, *, private: bool, badge: int | None) -> Push:
    if private:
        body = "New message" if row.unread == 1 else f"{row.unread} new messages"
    else:
        if row.deleted:
            text = "(deleted)"
        elif row.content:
            text = row.content if len(row.content) <= PREVIEW_LENGTH else row.content[: PREVIEW_LENGTH - 1] + "…"
        else:
            text = f"sent {'an' if row.message_type == 'image' else 'a'} {row.message_type or 'message'}"
        body = text if row.unread == 1 else f"{text} (+{row.unread - 1} more)"
        if row.group:
            body = f"{row.sender_name}: {body}"
    title = (row.title or "Group conversation") if row.group else row.sender_name
    data = {"type": "message", "conversation_id": str(row.conversation_id), "seq": str(row.last_seq)}
    if row.message_id:
        data["message_id"] = str(row.message_id)
    return Push(title=title, body=body, data=data, badge=badge, collapse_key=f"conversation-{row.conversation_id}")


@dataclass
class PushRun:
    """What one push job did (the bench and the tests read it)."""

    considered: int = 0
    online: int = 0
    sent: int = 0
    skipped_by_preference: int = 0
    summary: delivery.PushSummary = field(default_factory=delivery.PushSummary)


def push_conversations(conversation_ids: list[int]) -> PushRun:
    run = PushRun()
    if not conversation_ids:
        return run
    _redis().zrem(_key("push:due"), *conversation_ids)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_UNREAD, [list(conversation_ids), now])
        rows = [
            _Unread(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4] == "group",
                r[5],
                r[6],
                r[7],
                r[8] or "",
                bool(r[9]),
                _sender_name(*r[11:14]),
            )
            for r in cursor.fetchall()
        ]
    run.considered = len(rows)
    if not rows:
        return run
    rows = _keep_a_share(rows)
    online = users_with_sockets(sorted({row.user_id for row in rows}))
    offline_rows = [row for row in rows if row.user_id not in online]
    run.online = len(rows) - len(offline_rows)
    if not offline_rows:
        return run
    offline_users = sorted({row.user_id for row in offline_rows})
    _email_later(offline_users)
    people = {user.pk: user for user in User.objects.filter(pk__in=offline_users).select_related("office")}
    chosen = delivery.preferences_of(people.values())
    wanted = [
        row
        for row in offline_rows
        if row.user_id in people
        and chosen[row.user_id].allows("message", "push")
        and not chosen[row.user_id].quiet_at(now)
    ]
    run.skipped_by_preference = len(offline_rows) - len(wanted)
    devices: dict[int, list[Device]] = {}
    for device in Device.objects.filter(user_id__in={row.user_id for row in wanted}):
        devices.setdefault(device.user_id, []).append(device)
    wanted = [row for row in wanted if row.user_id in devices]
    if not wanted:
        return run
    with connection.cursor() as cursor:
        cursor.execute(_BADGES, [sorted({row.user_id for row in wanted})])
        badges = {user_id: int(total) for user_id, total in cursor.fetchall()}
    sends = [
        (
            f"message:{row.conversation_id}:{row.last_seq}:u{row.user_id}",
            _message_push(row, private=chosen[row.user_id].private_previews, badge=badges.get(row.user_id)),
            devices[row.user_id],
        )
        for row in wanted
    ]
    run.summary = delivery.push_to_many(sends)
    run.sent = run.summary.sent
    delivery.raise_for_retries(run.summary, "message pushes")
    return run


def _keep_a_share(rows: list[_Unread]) -> list[_Unread]:
    """A burst over many conversations is shared out: this job keeps its first JOB_RECIPIENTS recipients'
    conversations and sends the others on as jobs of the same size, so every worker process pushes."""
    by_conversation: dict[int, list[_Unread]] = {}
    for row in rows:
        by_conversation.setdefault(row.conversation_id, []).append(row)
    if len(rows) <= JOB_RECIPIENTS or len(by_conversation) == 1:
        return rows
    shares: list[list[int]] = [[]]
    size = 0
    for conversation_id, members in by_conversation.items():
        if size and size + len(members) > JOB_RECIPIENTS:
            shares.append([])
            size = 0
        shares[-1].append(conversation_id)
        size += len(members)
    from messaging.tasks import push_conversations  # noqa: PLC0415 - tasks import this module

    for share in shares[1:]:
        send_now(push_conversations, share)
    return [row for conversation_id in shares[0] for row in by_conversation[conversation_id]]


def overdue_conversations() -> list[int]:
    raw = cast(
        list[bytes],
        _redis().zrangebyscore(_key("push:due"), "-inf", _now_ms() - OVERDUE_SECONDS * 1000, start=0, num=1000),
    )
    return [int(value) for value in raw]


# --- the missed-message email ----------------------------------------------------------------------


def _email_later(user_ids: list[int]) -> None:
    due = _now_ms() + max(settings.MISSED_MESSAGE_EMAIL_MINUTES * 60 - settings.PUSH_GRACE_SECONDS, 0) * 1000
    _redis().zadd(_key("email:due"), dict.fromkeys(map(str, user_ids), due), nx=True)


_MISSED = """
SELECT c.id, c.type, c.title, c.last_seq - GREATEST(p.last_read_seq, COALESCE(mk.seq, 0)) AS missed,
       m.id, m.seq, m.created_at, m.type, m.content, m.deleted_at IS NOT NULL, s.first_name, s.last_name, s.email
FROM messaging_participant p
JOIN messaging_conversation c ON c.id = p.conversation_id
LEFT JOIN messaging_missedmessagemark mk ON mk.user_id = p.user_id AND mk.conversation_id = p.conversation_id
CROSS JOIN LATERAL (
    SELECT * FROM messaging_message m
    WHERE m.conversation_id = c.id AND m.seq > GREATEST(p.last_read_seq, COALESCE(mk.seq, 0), p.cleared_seq)
      AND m.sender_id IS DISTINCT FROM p.user_id
    ORDER BY m.seq DESC LIMIT %s
) m
LEFT JOIN accounts_user s ON s.id = m.sender_id
WHERE p.user_id = %s AND c.last_seq > GREATEST(p.last_read_seq, COALESCE(mk.seq, 0))
  AND (p.muted_until IS NULL OR p.muted_until <= %s)
ORDER BY c.last_activity_at DESC, c.id, m.seq
"""


@dataclass
class _MissedConversation:
    id: int
    title: str
    unread: int
    url: str
    last_seq: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(self.unread - len(self.messages), 0)


def _missed_for(user: User, now: datetime) -> list[_MissedConversation]:
    conversations: dict[int, _MissedConversation] = {}
    frontend = settings.FRONTEND_URL.rstrip("/")
    with connection.cursor() as cursor:
        cursor.execute(_MISSED, [EMAIL_MESSAGES_PER_CONVERSATION, user.pk, now])
        for (
            cid,
            ctype,
            title,
            missed,
            _mid,
            seq,
            created,
            mtype,
            content,
            deleted,
            first,
            last,
            email,
        ) in cursor.fetchall():
            sender = _sender_name(first, last, email)
            conversation = conversations.get(cid)
            if conversation is None:
                conversation = conversations[cid] = _MissedConversation(
                    id=cid,
                    title=(title or "Group conversation") if ctype == "group" else sender,
                    unread=int(missed),
                    url=f"{frontend}/conversations/{cid}",
                )
            conversation.last_seq = max(conversation.last_seq, int(seq))
            text = "(deleted)" if deleted else (content or f"sent a {mtype}")
            conversation.messages.append({"sender_name": sender, "created_at": created, "text": text})
    return list(conversations.values())


def email_due_users(limit: int = EMAIL_USERS_PER_RUN) -> list[int]:
    raw = cast(list[bytes], _redis().zrangebyscore(_key("email:due"), "-inf", _now_ms(), start=0, num=limit))
    return [int(value) for value in raw]


def missed_message_email(user_id: int) -> bool:
    """Send `user_id` their missed-message email if they are still away with unread messages and want
    it. True when an email went. Idempotent: run twice, it sends once (marks and ledger commit with
    the send). The user leaves `email:due` only once this ran through: a job that died leaves them."""
    sent = _missed_message_email(user_id)
    _redis().zrem(_key("email:due"), str(user_id))
    return sent


def _missed_message_email(user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).select_related("office").first()
    if user is None or not user.email or users_with_sockets([user_id]):
        return False  # gone, or back in the app: the unread badge tells them
    prefs = delivery.preferences_of([user])[user.pk]
    if not prefs.allows("message", "email"):
        return False
    with transaction.atomic():
        list(MissedMessageMark.objects.select_for_update().filter(user=user))  # one email job per user at a time
        conversations = _missed_for(user, timezone.now())
        if not conversations:
            return False
        total = sum(c.unread for c in conversations)
        message = delivery.email_message(
            user=user,
            category="message",
            subject=f"{total} unread message{'s' if total != 1 else ''}",
            template="notifications/email/missed_messages",
            context={"conversations": conversations, "total": total, "private": prefs.private_previews},
        )
        for conversation in conversations:
            MissedMessageMark.objects.update_or_create(
                user=user, conversation_id=conversation.id, defaults={"seq": conversation.last_seq}
            )
        # The email's content names it: the same missed messages are never mailed twice.
        newest = ":".join(f"{c.id}.{c.last_seq}" for c in sorted(conversations, key=lambda c: c.id))
        digest = hashlib.sha256(newest.encode()).hexdigest()[:24]
        try:
            return delivery.email_to_user(event=f"missed:{user.pk}:{digest}", message=message)
        except (smtplib.SMTPException, OSError) as exc:
            raise Retryable(f"mail server: {exc}") from exc
