"""One subscriber per server process for conversation events.

A conversation event is published once to `members_group(id)` (see `core.realtime`). Rather than
each socket joining that group on the channel layer (one queue, one task wake-up and one decode
per socket per event), the process's hub joins it once on behalf of all its sockets in that
conversation and hands each event to them in arrival order. A message to a conversation whose
10 members sit on this process costs one decode here, not ten.

The hub has exactly one channel and one reader, however many sockets connect at once: the
channel is made by a single task that every first `join` awaits. `join` returns only once the
conversation's subscription is in place (the layer's subscribe calls run one at a time, in call
order), so a socket that opens after it misses nothing that commits later.
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
        self.sockets: dict[int, set] = {}  # conversation id → consumers of this process
        self._channel: asyncio.Future[str] | None = None

    async def channel(self) -> str:
        """The hub's one channel, made once; a failure (Redis down) lets the next caller try again."""
        if self._channel is None or (self._channel.done() and self._channel.exception() is not None):
            self._channel = asyncio.ensure_future(self._open())
        return await asyncio.shield(self._channel)

    async def _open(self) -> str:
        channel = await self.layer.new_channel("hub.")
        asyncio.create_task(self._run(channel))
        return channel

    async def join(self, conversation_id: int, consumer) -> None:
        channel = await self.channel()
        self.sockets.setdefault(conversation_id, set()).add(consumer)
        # Every join waits for the subscription, not only the first: a second socket must not
        # open while the first one's subscribe is still on its way to Redis.
        await self.layer.group_add(members_group(conversation_id), channel)

    async def leave(self, conversation_id: int, consumer) -> None:
        sockets = self.sockets.get(conversation_id)
        if sockets is None or consumer not in sockets:
            return
        sockets.discard(consumer)
        if not sockets:
            del self.sockets[conversation_id]
            await self.layer.group_discard(members_group(conversation_id), await self.channel())

    async def _run(self, channel: str) -> None:
        while True:
            message = await self.layer.receive(channel)
            for consumer in list(self.sockets.get(message["conversation_id"], ())):
                try:
                    await consumer.conversation_event(message)
                except Exception:  # one broken socket never stops the others' events
                    logger.exception("socket event failed")


hub = PerLoop(Hub).get
