"""Background jobs of messaging: pushes for message bursts, missed-message emails (messaging.offline)."""

from __future__ import annotations

from core.jobs import job, send_now
from messaging import offline


@job()
def push_conversations(conversation_ids: list[int]) -> int:
    """Push the burst of each of these conversations to its recipients who are away. Returns pushes sent."""
    return offline.push_conversations([int(c) for c in conversation_ids]).sent


@job()
def push_overdue_conversations() -> int:
    """Beat: bursts whose job was lost (sent past their due time and not taken) get one now."""
    overdue = offline.overdue_conversations()
    if overdue:
        send_now(push_conversations, overdue)
    return len(overdue)


@job()
def send_missed_message_emails() -> int:
    """Beat: each user whose missed-message time came gets their one job."""
    users = offline.email_due_users()
    for user_id in users:
        send_now(send_missed_message_email, user_id)
    return len(users)


@job()
def send_missed_message_email(user_id: int) -> bool:
    return offline.missed_message_email(int(user_id))
