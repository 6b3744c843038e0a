"""Who is online, as their contacts see it: announced when a user's first socket opens and when
their last one closes, whether it closed itself or died with its server process."""

from __future__ import annotations

import asyncio
import logging

from django.utils import timezone

from accounts.models import User
from core.db import in_db_thread
from core.loops import PerLoop
from core.realtime import broadcast_to_users
from messaging import selectors
from messaging.socket import registry

logger = logging.getLogger("crm.socket")


@in_db_thread
def announce(user_id: int, status: str) -> None:
    """`user_status_changed` to everyone who shares a conversation with the user, once each."""
    user = User(pk=user_id)
    payload = {"user_id": user_id, "status": status}
    if status == "offline":
        payload["last_seen"] = timezone.now().isoformat()
        User.objects.filter(pk=user_id).update(last_seen=timezone.now())
    broadcast_to_users(selectors.contact_user_ids(user), "user_status_changed", payload)


async def went_offline(user_id: int) -> None:
    await registry.presence_set(user_id, None)
    await announce(user_id, "offline")


class _Beat:
    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None


_beat = PerLoop(_Beat).get


def keep_process_alive() -> None:
    """Start this process's registry beat (once per event loop, with its first socket)."""
    beat = _beat()
    if beat.task is None or beat.task.done():
        beat.task = asyncio.get_running_loop().create_task(_run())


async def _run() -> None:
    failing = False
    while True:
        try:
            for user_id in await registry.node_beat():  # users whose last socket died with a process
                await went_offline(user_id)
        except Exception:  # Redis or PostgreSQL away: beat again next time, say so once
            if not failing:
                logger.warning("socket registry beat failed; retrying every second", exc_info=True)
            failing = True
        else:
            if failing:
                logger.warning("socket registry beat recovered")
            failing = False
        await asyncio.sleep(registry.NODE_BEAT_SECONDS)
