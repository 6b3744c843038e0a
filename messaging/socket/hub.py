"""One subscriber per server process for conversation events.

A conversation event is published once to `members_group(id)` (see `core.realtime`). Rather than
each socket joining that group on the channel layer (one queue, one task wake-up and one decode
per socket per event), the process's hub joins it once on behalf of all its sockets in that
conversation and hands each event to them in arrival order. A message to a conversation whose
10 members sit on this process costs one decode here, not ten.
"""

from __future__ import annotations

import asyncio
import logging

from channels.layers import get_channel_layer

from core.realtime import members_group
from messaging.socket import PerLoop

logger = logging.getLogger("crm.socket")


class Hub:
    def __init__(self):
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.sockets: dict[int, set] = {}  # conversation id → consumers of this process
        self.task: asyncio.Task | None = None

    async def join(self, conversation_id: int, consumer) -> None:
        if self.channel is None:
            self.channel = await self.layer.new_channel("hub.")
            self.task = asyncio.create_task(self._run())
        sockets = self.sockets.setdefault(conversation_id, set())
        sockets.add(consumer)
        if len(sockets) == 1:
            await self.layer.group_add(members_group(conversation_id), self.channel)

    async def leave(self, conversation_id: int, consumer) -> None:
        sockets = self.sockets.get(conversation_id)
        if sockets is None or consumer not in sockets:
            return
        sockets.discard(consumer)
        if not sockets:
            del self.sockets[conversation_id]
            await self.layer.group_discard(members_group(conversation_id), self.channel)

    async def _run(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            for consumer in list(self.sockets.get(message["conversation_id"], ())):
                try:
                    await consumer.conversation_event(message)
                except Exception:  # one broken socket never stops the others' events
                    logger.exception("socket event failed")


hub = PerLoop(Hub).get
