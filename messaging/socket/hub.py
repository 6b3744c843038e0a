"""One subscriber per server process for conversation events.

A conversation event is published once to `members_group(id)` (see `core.realtime`). Rather than
each socket joining that group on the channel layer (one queue, one task wake-up and one decode
per socket per event), the process's hub follows it once on behalf of all its sockets in that
conversation (`core.realtime.follow`: its channel among the group's followers) and hands each
event to them in arrival order. A message to a conversation whose 10 members sit on this process
costs one decode here, not ten.

The hub has exactly one channel and one reader, however many sockets connect at once: the
channel is made by a single task that every first `join` awaits. `join` returns only once the
hub is among the conversation's followers, so a socket that opens after it misses nothing that
commits later. The hub writes its places again every READ_BACK_SECONDS (`_follow_again`).

Sends made on this process's sockets reach the hub directly (`core.realtime.deliver_here`): their
sockets here get the message without a round trip through Redis, and Redis does not bring it back
(the publish skips this process's channel; a copy marked with this process's origin that comes
anyway, from another event loop of the process, is dropped).

The channel layer is not a delivery guarantee: an event published while Redis was away, or
before the hub subscribed, never arrives. So the hub also reads back: every READ_BACK_SECONDS it
compares the last seq it handed out in each conversation with the database's, and a conversation
still behind at the next look (not merely a message in flight) has its missing messages read
and handed out like any event. The sockets drop what they already have.

Both tasks (the reader `_run` and `_read_back`) are supervised (`core.loops.supervised`): a crash
is logged with its traceback and the task started again after a short back-off, so a bug met by
one event never leaves the process without live events (or without its read-back) until it restarts.
Events that arrive meanwhile wait in the channel and are handed out when the reader is back.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol, cast

from channels.layers import get_channel_layer

from accounts.models import User
from core.db import in_db_thread
from core.loops import PerLoop, supervised
from core.outages import DATABASE_ERRORS, REDIS_ERRORS
from core.realtime import PROCESS_TAG, deliver_here, follow, members_group, stop_delivering_here, unfollow
from messaging import events, selectors

logger = logging.getLogger("crm.socket")

READ_BACK_SECONDS = 2.0
READ_BACK_LIMIT = 1000  # messages read back at once; the next look reads the rest
YIELD_EVERY = 20  # events handed out before the hub lets the loop run other work


class _Layer(Protocol):
    """What the hub asks of channels_redis' layer (untyped; Channels' base class declares less)."""

    async def new_channel(self, prefix: str = ...) -> str: ...
    async def receive(self, channel: str) -> dict[str, Any]: ...


class _Socket(Protocol):
    user: User

    async def conversation_event(self, message: dict[str, Any]) -> None: ...


@in_db_thread
def _behind(seen: dict[int, int]) -> dict[int, int]:
    """{conversation id: seq handed out} of the conversations whose database seq is further."""
    latest = selectors.conversations_last_seq(list(seen))
    return {conversation_id: seq for conversation_id, seq in seen.items() if latest.get(conversation_id, 0) > seq}


@in_db_thread
def _missed(positions: dict[int, int]) -> list[dict[str, Any]]:
    return [
        events.message_event(events.MESSAGE_RECEIVED, message, members)
        for message, members in selectors.messages_after(positions, limit=READ_BACK_LIMIT)
    ]


class Hub:
    def __init__(self) -> None:
        self.layer = cast(_Layer, get_channel_layer())
        self.sockets: dict[int, set[_Socket]] = {}  # conversation id → consumers of this process
        self.seen: dict[int, int] = {}  # conversation id → highest seq handed out (or known at join)
        self._channel: asyncio.Future[str] | None = None
        self._tasks: tuple[asyncio.Task[None], ...] = ()  # held: the loop keeps only a weak reference to a task

    async def channel(self) -> str:
        """The hub's one channel, made once; a failure (Redis down) lets the next caller try again."""
        if self._channel is None or (self._channel.done() and self._channel.exception() is not None):
            self._channel = asyncio.ensure_future(self._open())
        return await asyncio.shield(self._channel)

    async def _open(self) -> str:
        channel = await self.layer.new_channel("hub.")
        self._tasks = (
            asyncio.create_task(supervised("hub reader", lambda: self._run(channel))),
            asyncio.create_task(supervised("hub read-back", self._read_back)),
        )
        return channel

    async def join(self, conversation_id: int, consumer: _Socket, last_seq: int | None = None) -> None:
        """Hand this conversation's events to `consumer`, whose client has everything up to `last_seq`."""
        channel = await self.channel()
        if conversation_id not in self.sockets:
            self.sockets[conversation_id] = set()
            deliver_here(members_group(conversation_id), self._hand_out)
        self.sockets[conversation_id].add(consumer)
        if last_seq is not None and self.seen.get(conversation_id, -1) < last_seq:
            self.seen[conversation_id] = last_seq
        # Every join waits for the hub's place among the group's followers, not only the first: a
        # second socket must not open while the first one's is still on its way to Redis.
        await follow([members_group(conversation_id)], channel)

    async def leave(self, conversation_id: int, consumer: _Socket) -> None:
        sockets = self.sockets.get(conversation_id)
        if sockets is None or consumer not in sockets:
            return
        sockets.discard(consumer)
        if not sockets:
            del self.sockets[conversation_id]
            self.seen.pop(conversation_id, None)
            stop_delivering_here(members_group(conversation_id))
            await unfollow(members_group(conversation_id), await self.channel())

    async def _run(self, channel: str) -> None:
        handed = 0
        while True:
            message = await self.layer.receive(channel)
            if message.get("origin") != PROCESS_TAG:  # not one this process already handed out
                await self._hand_out(message)
            handed += 1
            if handed % YIELD_EVERY == 0:
                # A burst (a process's batch of delivery receipts: hundreds of events at once) is
                # handed out in slices, with the loop's other work (sends) in between.
                await asyncio.sleep(0)

    async def _hand_out(self, message: dict[str, Any]) -> None:
        conversation_id, seq = message["conversation_id"], message["seq"]
        sockets = self.sockets.get(conversation_id)
        if not sockets:
            return
        if seq is not None and seq > self.seen.get(conversation_id, 0):
            self.seen[conversation_id] = seq
        # The frame's ASGI message, made once here and shared by every socket it goes to (on a copy:
        # the caller's dict may still be on its way to Redis).
        message = {**message, "send": {"type": "websocket.send", "text": message["frame"]}}
        # An event for some of the members only (a delivery receipt is for the senders) skips the
        # others' sockets here; monitors get what is marked for them.
        only = None if message["monitors"] else set(message["user_ids"])
        for consumer in list(sockets):
            if only is not None and consumer.user.pk not in only:
                continue
            try:
                await consumer.conversation_event(message)
            except Exception:  # one broken socket never stops the others' events
                logger.exception("socket event failed")

    async def _read_back(self) -> None:
        behind_before: dict[int, int] = {}
        failing = False
        while True:
            await asyncio.sleep(READ_BACK_SECONDS)
            await self._follow_again()
            try:
                behind_before = await self._look(behind_before)
                failing = False
            except DATABASE_ERRORS:  # PostgreSQL away: look again later, say so once (anything else is a crash)
                if not failing:
                    logger.warning("socket read-back failed; retrying", exc_info=True)
                failing = True

    async def _follow_again(self) -> None:
        """The hub's places among its groups' followers, written again: a Redis that restarted has
        lost them (the events meanwhile are read back), and a place is dropped by a publish that found
        its channel not listening (as while the subscriber reconnects)."""
        if not self.sockets or self._channel is None or not self._channel.done() or self._channel.exception():
            return
        try:
            await follow([members_group(conversation_id) for conversation_id in self.sockets], self._channel.result())
        except REDIS_ERRORS:  # Redis away: next time
            pass

    async def _look(self, behind_before: dict[int, int]) -> dict[int, int]:
        """Hand out the messages of the conversations behind at this look and the one before at the
        same seq (lost, not in flight); the conversations behind now."""
        behind = await _behind(dict(self.seen)) if self.seen else {}
        stuck = {cid: seq for cid, seq in behind.items() if behind_before.get(cid) == seq}
        if stuck:
            missed = await _missed(stuck)
            logger.info("socket events read back", extra={"conversations": len(stuck), "messages": len(missed)})
            for message in missed:
                await self._hand_out(message)
        return behind


hub = PerLoop(Hub).get
