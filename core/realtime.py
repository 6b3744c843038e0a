"""The one way a write reaches sockets: per-user groups, sent after the transaction commits.

Consumers join `user_group(user.id)` on connect (and `conversation_group(id)` on
`join_conversation` for typing and upload progress). A channel-layer failure is logged,
never raised: the committed write stands and clients catch up with `after=<seq>`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger("crm.socket")

EVENT_TYPE = "realtime.event"  # handled by the consumer's `realtime_event` method


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def monitor_group(conversation_id: int) -> str:
    """Monitoring staff who joined a conversation read-only: its message events reach them here
    (participants get them through their own user groups, so nobody gets two copies)."""
    return f"monitor.{conversation_id}"


async def group_send_many(groups: Iterable[str], event: str, data: dict) -> None:
    """All groups at once: a 50-member conversation costs one round of Redis calls, not fifty in a row."""
    layer = get_channel_layer()
    message = {"type": EVENT_TYPE, "event": event, "data": data}
    await asyncio.gather(*(layer.group_send(group, message) for group in groups))


def _send_now(groups: list[str], event: str, data: dict) -> None:
    try:
        async_to_sync(group_send_many)(groups, event, data)
    except Exception:  # the write is committed; clients recover with after=<seq>
        logger.warning("realtime send failed", extra={"event": event, "groups": len(groups)}, exc_info=True)


def broadcast_to_users(user_ids: Iterable[int], event: str, data: dict, *, monitors_of: int | None = None) -> None:
    """Push `event` to every socket of these users (and, with `monitors_of`, to the read-only
    monitors of that conversation) once the current transaction commits."""
    groups = [user_group(user_id) for user_id in sorted(set(user_ids))]
    if monitors_of is not None:
        groups.append(monitor_group(monitors_of))
    if groups:
        transaction.on_commit(lambda: _send_now(groups, event, data))


def broadcast_to_conversation(conversation_id: int, event: str, data: dict) -> None:
    """Ephemeral traffic (typing, upload progress) for sockets that joined the conversation."""
    transaction.on_commit(lambda: _send_now([conversation_group(conversation_id)], event, data))


SESSION_REVOKE_TYPE = "session.revoke"  # handled by the consumer's `session_revoke`: closes the socket


def disconnect_user(user_id: int) -> None:
    """Close every socket of this user (deactivation), after the transaction commits."""

    def send():
        try:
            async_to_sync(get_channel_layer().group_send)(user_group(user_id), {"type": SESSION_REVOKE_TYPE})
        except Exception:
            logger.warning("socket revoke failed", exc_info=True)

    transaction.on_commit(send)
