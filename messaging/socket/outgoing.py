"""Events out: what the server pushes to one socket, and which conversations it follows.

A conversation's events come from the process's hub (`hub.py`), once per event for all its
sockets, each naming its recipients; events for this user alone come on the channel layer
(`realtime_event`). New messages go out once each and in `seq` order (`ordering.SeqOrder`); a gap
is read back from the database after SOCKET_GAP_WAIT_MS, once for every socket of the process that
waits for the same messages (`_gap_read`: with several processes, events for one conversation arrive
out of order whenever another process is behind, and every socket of the conversation sees the same gap).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings

from core.db import in_db_thread
from core.loops import PerLoop
from core.outages import unavailable
from core.realtime import conversation_group
from core.realtime import frame as event_frame
from messaging import events, selectors
from messaging.socket import deliveries
from messaging.socket.hub import hub
from messaging.socket.ordering import SeqOrder

if TYPE_CHECKING:
    from messaging.socket.consumer_state import ConsumerState
else:
    ConsumerState = object

logger = logging.getLogger("crm.socket")

# Server → client events (spec section 4), plus the protocol's own `ack` and `error`.
SERVER_EVENTS = (
    "message_received",
    "message_edited",
    "message_deleted",
    "message_delivered",
    "message_read",
    "conversation_created",
    "conversation_updated",
    "user_joined_conversation",
    "user_left_conversation",
    "user_typing_start",
    "user_typing_stop",
    "user_status_changed",
    "system_announcement",
    "notification_received",
    "file_upload_progress",
    "conversation_cleared",
    "application_updated",  # (applications.services: to the student, the consultant, the office's managers)
    "proposal_received",  # (proposals.services: to the student, when sent)
    "task_due",  # (followups.services: to the assignee, at the due time)
)
_OWN_ECHO = ("user_typing_start", "user_typing_stop", "file_upload_progress")  # never sent back to their author


@in_db_thread
def _read_back(conversation_id: int, after: int, up_to: int) -> list[tuple[int, dict[str, Any]]]:
    """(seq, event) of the messages a socket waits for, as the hub hands them out."""
    return [
        (
            m.seq,
            {
                "conversation_id": m.conversation_id,
                "seq": m.seq,
                "sender_id": m.sender_id,
                "frame": event_frame(events.MESSAGE_RECEIVED, events.message_payload(m)),
            },
        )
        for m in selectors.messages_between(conversation_id, after=after, up_to=up_to)
    ]


# The gap reads under way in this process (per event loop), by (conversation, after, up to).
_gap_reads = PerLoop[dict[tuple[int, int, int], "asyncio.Future[list[tuple[int, dict[str, Any]]]]"]](dict).get


async def _gap_read(conversation_id: int, after: int, up_to: int) -> list[tuple[int, dict[str, Any]]]:
    """`_read_back`, shared by the sockets that wait for the same messages at the same time: one query,
    however many of the process's sockets follow the conversation. A socket that closes meanwhile
    stops waiting without cancelling the others' read (shield)."""
    reads, key = _gap_reads(), (conversation_id, after, up_to)
    read = reads.get(key)
    if read is None:
        read = reads[key] = asyncio.ensure_future(_read_back(conversation_id, after, up_to))

        def done(finished: asyncio.Future[Any]) -> None:
            reads.pop(key, None)
            if not finished.cancelled():
                finished.exception()  # its waiters see it; if every one left, it is not logged as unretrieved

        read.add_done_callback(done)
    return await asyncio.shield(read)


class EventDelivery(ConsumerState):
    """The consumer's side that pushes. State, set up in `connect`: `member_of` (conversations whose
    events this socket gets as a participant), `monitoring` (joined read-only by monitoring staff),
    `joined` (ephemeral traffic wanted), `order` (what was pushed, what is held), `gap_fills` (the
    gap reads under way)."""

    def _start_delivery(self) -> None:
        self.member_of: set[int] = set()
        self.monitoring: set[int] = set()
        self.joined: set[int] = set()
        self.order: SeqOrder[dict[str, Any]] = SeqOrder()
        self.gap_fills: set[asyncio.Task[None]] = set()

    async def realtime_event(self, message: dict[str, Any]) -> None:
        """An event for this user alone (or for sockets that joined a conversation)."""
        event, data = message["event"], message["data"]
        if event in _OWN_ECHO and data.get("user_id") == self.user.pk:
            return  # no echo of your own ephemeral traffic
        if event in (events.CONVERSATION_CREATED, events.USER_JOINED_CONVERSATION):
            await self._subscribe(data["id"])
        elif event == events.USER_LEFT_CONVERSATION and data.get("user_id") == self.user.pk:
            await self._forget(data["conversation_id"])
        await self.send_json({"event": event, "data": data})

    async def conversation_event(self, message: dict[str, Any]) -> None:
        """A conversation's event, published once for all its members as a ready-made frame (the
        process's hub hands it to each of its sockets in that conversation)."""
        conversation_id = message["conversation_id"]
        if self.user.pk not in message["user_ids"] and not (message["monitors"] and conversation_id in self.monitoring):
            return  # not (or no longer) theirs
        if message["seq"] is None:
            return await self._push(message)
        pushed, gap = self.order.arrive(conversation_id, message["seq"], message)
        for each in pushed:
            await self._emit(each)
        if gap:
            self._fill_gap_later(conversation_id)

    def _fill_gap_later(self, conversation_id: int) -> None:
        task = asyncio.create_task(self._fill_gap(conversation_id))
        self.gap_fills.add(task)  # held until done: the loop keeps only a weak reference to a task
        task.add_done_callback(self.gap_fills.discard)

    async def gap_wait(self) -> None:
        """How long a gap may take to fill itself (the late event arriving) before it is read back."""
        await asyncio.sleep(settings.SOCKET_GAP_WAIT_MS / 1000)

    async def _fill_gap(self, conversation_id: int) -> None:
        """A later message overtook an earlier one: wait briefly, then read the gap from the database."""
        await self.gap_wait()
        gap = self.order.gap(conversation_id)
        if gap is None:
            return  # filled meanwhile, or the user left the conversation
        try:
            rows = await _gap_read(conversation_id, *gap)
        except Exception as exc:  # PostgreSQL away: keep what is held, try again after the next wait
            if unavailable(exc, "socket gap fill") is None:
                logger.exception("socket gap fill failed")
            self._fill_gap_later(conversation_id)
            return
        pushed, still_open = self.order.fill(conversation_id, rows)
        for message in pushed:
            await self._emit(message)
        if still_open:
            self._fill_gap_later(conversation_id)

    async def _push(self, message: dict[str, Any]) -> None:
        # The hub's ASGI message for this event, one for all its sockets; or one of this socket's own
        # (read back by it, or handed to it by a test). Never waits between the messages of one
        # release (`send_shared`).
        await self.send_shared(message.get("send") or {"type": "websocket.send", "text": message["frame"]})

    async def _emit(self, message: dict[str, Any]) -> None:
        await self._push(message)
        if message["sender_id"] != self.user.pk:  # (a monitor's note moves nothing: services.deliveries_record)
            deliveries.note(self.user.pk, message["conversation_id"], message["seq"])

    async def _subscribe(self, conversation_id: int) -> None:
        """Message events of a conversation this user takes part in, joined or not."""
        if conversation_id not in self.member_of:
            self.member_of.add(conversation_id)
            await hub().join(conversation_id, self, self.order.last.get(conversation_id))

    async def _monitor(self, conversation_id: int) -> None:
        """Message events of a conversation joined read-only, until `leave_conversation`."""
        if conversation_id not in self.monitoring:
            self.monitoring.add(conversation_id)
            await hub().join(conversation_id, self)

    async def _unmonitor(self, conversation_id: int) -> None:
        if conversation_id in self.monitoring:
            self.monitoring.discard(conversation_id)
            await self._unsubscribe_members(conversation_id)

    async def _unsubscribe_members(self, conversation_id: int) -> None:
        if conversation_id not in self.member_of and conversation_id not in self.monitoring:
            self.order.forget(conversation_id)
            await hub().leave(conversation_id, self)

    async def _forget(self, conversation_id: int) -> None:
        """Removed from the conversation (or closing): no more of its events on this socket."""
        self.member_of.discard(conversation_id)
        self.monitoring.discard(conversation_id)
        self.joined.discard(conversation_id)
        await self.channel_layer.group_discard(conversation_group(conversation_id), self.channel_name)
        await self._unsubscribe_members(conversation_id)
