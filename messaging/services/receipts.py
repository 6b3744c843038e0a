"""Read and delivery receipts, and "clear my history": the per-participant pointers.

Only participants leave receipts. A monitor reads a conversation without a Participant row, so
every receipt here answers them 404, like anyone else outside the conversation: that is the one
place the rule is written, whichever door (REST, socket) asks.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Case, F, PositiveBigIntegerField, Value, When
from django.db.models.functions import Greatest

from accounts.models import User
from core.errors import NotFound
from core.realtime import (
    broadcast_to_members,
    broadcast_to_users,
    conversation_message,
    members_group,
    publish_on_commit,
)
from messaging import events
from messaging.models import Conversation, Message, Participant
from messaging.selectors import participant_user_ids


def _advance_pointer(*, user: User, conversation_id: int, seq: int, field: str, not_found: str) -> Participant | None:
    """Move a participant's read/delivered pointer forward only; None when nothing changed, 404
    (`not_found`) for anyone without a Participant row (monitors leave no receipts)."""
    conversation = Conversation.objects.filter(pk=conversation_id).only("last_seq").first()
    if conversation is None:
        raise NotFound(not_found)
    seq = min(int(seq), conversation.last_seq)
    updated = Participant.objects.filter(conversation_id=conversation_id, user=user, **{f"{field}__lt": seq})
    if field == "last_read_seq":  # read implies delivered; neither pointer ever moves back
        count = updated.update(
            last_read_seq=seq,
            last_delivered_seq=Case(
                When(last_delivered_seq__lt=seq, then=Value(seq)),
                default=F("last_delivered_seq"),
                output_field=PositiveBigIntegerField(),
            ),
        )
    else:
        count = updated.update(**{field: seq})
    if not count:
        if not Participant.objects.filter(conversation_id=conversation_id, user=user).exists():
            raise NotFound(not_found)
        return None
    return Participant.objects.get(conversation_id=conversation_id, user=user)


def _read_up_to(user: User, conversation: Conversation, seq: int, *, not_found: str) -> int:
    membership = _advance_pointer(
        user=user, conversation_id=conversation.pk, seq=seq, field="last_read_seq", not_found=not_found
    )
    if membership is not None:
        broadcast_to_members(
            conversation.pk,
            participant_user_ids(conversation.pk),
            events.MESSAGE_READ,
            {"conversation_id": conversation.pk, "user_id": user.pk, "seq": membership.last_read_seq},
        )
        return membership.last_read_seq
    return Participant.objects.get(conversation=conversation, user=user).last_read_seq


@transaction.atomic
def conversation_mark_read(*, user: User, conversation: Conversation, seq: int | None = None) -> int:
    """Everything up to `seq` (default: the latest) is read by `user`; returns the read seq."""
    seq = conversation.last_seq if seq is None else seq
    return _read_up_to(user, conversation, seq, not_found="Conversation not found.")


@transaction.atomic
def message_mark_read(*, user: User, message: Message) -> int:
    """A read receipt for one message marks everything before it read too."""
    return _read_up_to(user, message.conversation, message.seq, not_found="Message not found.")


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
        "conversation_id", "user_id"
    ):
        members[conversation_id].append(user_id)
    for conversation_id, seq in moved:
        broadcast_to_members(
            conversation_id,
            members[conversation_id],
            events.MESSAGE_READ,
            {"conversation_id": conversation_id, "user_id": user.pk, "seq": seq},
        )
    return moved


@transaction.atomic
def conversation_clear_history(*, user: User, conversation: Conversation) -> int:
    """Hide every message of the conversation up to now from `user` alone; messages sent later
    show as usual. The hidden messages count as read. Returns the cleared seq.

    The user's other devices hear `conversation_cleared` (they drop the hidden history); a moved
    read pointer is announced like any read (`message_read`)."""
    membership = (
        Participant.objects.select_for_update(of=("self",))
        .select_related("conversation")
        .filter(conversation_id=conversation.pk, user=user)
        .first()
    )
    if membership is None:
        raise NotFound("Conversation not found.")
    seq = membership.conversation.last_seq
    Participant.objects.filter(pk=membership.pk).update(
        cleared_seq=Greatest(F("cleared_seq"), Value(seq)),
        last_read_seq=Greatest(F("last_read_seq"), Value(seq)),
        last_delivered_seq=Greatest(F("last_delivered_seq"), Value(seq)),
    )
    if membership.last_read_seq < seq:
        broadcast_to_members(
            conversation.pk,
            participant_user_ids(conversation.pk),
            events.MESSAGE_READ,
            {"conversation_id": conversation.pk, "user_id": user.pk, "seq": seq},
        )
    broadcast_to_users([user.pk], events.CONVERSATION_CLEARED, {"conversation_id": conversation.pk, "cleared_seq": seq})
    return seq


DELIVERIES_CHUNK = 50  # pointers moved per transaction by `deliveries_record`

_MOVE_DELIVERED = """
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
                 WHERE m.conversation_id = moved.conversation_id
                   AND m.seq > moved.old_seq AND m.seq <= moved.seq
                   AND m.sender_id IS NOT NULL AND m.sender_id <> moved.user_id)
    FROM moved ORDER BY 1, 2
"""


def deliveries_record(*, reached: dict[tuple[int, int], int]) -> list[tuple[int, int, int]]:
    """What sockets pushed to devices, batched per server process: `{(user_id, conversation_id): seq}`.

    Delivered pointers only move forward (rows locked in id order, so two processes never
    deadlock), and the senders of the newly delivered messages hear `message_delivered`, all in
    one publish. Returns the moved pointers as (conversation_id, user_id, seq). Pairs without a
    Participant row (a monitor's socket) move nothing.

    DELIVERIES_CHUNK pointers per transaction: a send also updates its sender's row, so it waits
    for the chunk that holds that row, not for the whole batch (1,000 pointers at once held
    sends up to 120 ms; docs/performance.md).
    """
    keys = sorted(reached)
    moved = []
    for start in range(0, len(keys), DELIVERIES_CHUNK):
        chunk = keys[start : start + DELIVERIES_CHUNK]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _MOVE_DELIVERED,
                [
                    [user_id for user_id, _ in chunk],
                    [conversation_id for _, conversation_id in chunk],
                    [reached[k] for k in chunk],
                ],
            )
            moved += cursor.fetchall()
    publish_on_commit(
        [
            (
                members_group(conversation_id),
                conversation_message(
                    conversation_id,
                    sender_ids,
                    events.MESSAGE_DELIVERED,
                    {"conversation_id": conversation_id, "user_id": user_id, "seq": seq},
                ),
            )
            for conversation_id, user_id, seq, sender_ids in moved
            if sender_ids
        ]
    )
    return [(conversation_id, user_id, seq) for conversation_id, user_id, seq, _ in moved]
