"""The one WebSocket consumer: every conversation of a user multiplexed on one socket.

Its life (connect, registry, heartbeat, close) is here; frames in (validation, handlers) are
`messaging.socket.incoming`, events out (ordering, subscriptions) `messaging.socket.outgoing`.
Frames in: `{"event", "data", "id"?}`; a frame with an `id` gets exactly one `ack` or `error`.
Frames out: `{"event", "data"}`. See docs/websocket.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from types import CoroutineType
from typing import TYPE_CHECKING, Any

import orjson
from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError

from accounts.models import User
from core.asgi_types import Message, Receive, Scope, Send
from core.db import in_db_thread
from core.realtime import user_group
from messaging.events import user_payload
from messaging.selectors import member_conversations_state
from messaging.socket import presence, registry
from messaging.socket.auth import AUTH_KEY, UNAVAILABLE, origin_allowed
from messaging.socket.flood import FloodGuard
from messaging.socket.incoming import FrameHandlers, log_frame
from messaging.socket.outgoing import EventDelivery

logger = logging.getLogger("crm.socket")

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_TOO_MANY = 4429
CLOSE_IDLE = 4408
CLOSE_SERVER_ERROR = 1011
CLOSE_RIGHTS_CHANGED = 4409  # the user's role, office or rights changed: reconnect at once, with the new rights
CLOSE_TRY_AGAIN = 4503  # Redis or PostgreSQL is unreachable right now: reconnect later (1013 is not allowed to servers)
# The reason sent with each close code (a client's CloseEvent.reason; at most 123 bytes).
CLOSE_REASONS = {
    CLOSE_UNAUTHORIZED: "token missing, invalid or expired: refresh it or sign in again",
    CLOSE_FORBIDDEN_ORIGIN: "origin not allowed",
    CLOSE_TOO_MANY: "too many sockets for this user",
    CLOSE_IDLE: "no frame within SOCKET_PING_TIMEOUT: send ping",
    CLOSE_RIGHTS_CHANGED: "your role or office changed: reconnect now, with the new rights",
    CLOSE_TRY_AGAIN: "a dependency is briefly unavailable: reconnect with backoff, then catch up",
}
REVOKED_REASON = "signed out: password changed or account deactivated"
FLOOD_REASON = "too many frames: slow down"
READY = "ready"  # the first frame of a signed-in socket (spec section 4)

_conversations_state = in_db_thread(member_conversations_state)


class ChatConsumer(FrameHandlers, EventDelivery, AsyncJsonWebsocketConsumer):
    CLOSE_TOO_MANY = CLOSE_TOO_MANY
    FLOOD_REASON = FLOOD_REASON
    clock = staticmethod(time.monotonic)  # for the idle check and the flood guard; tests set their own
    pause = staticmethod(asyncio.sleep)  # the heartbeat's wait between looks; tests drive their own
    if not TYPE_CHECKING:
        # No user before connect() (nor on a socket it refused), no channel before Channels makes one;
        # the handlers run for a signed-in user on a channel, as ConsumerState types them.
        user = None
        channel_name = None
    redis_failed_at = float("-inf")  # when this process last failed to make a socket's channel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        """Channels makes each socket's channel (a Redis subscription) before anything else; with
        Redis away that fails, and the client is told to try again later instead of getting a 500.
        For a second after a failure, sockets are refused without trying (each try leaves a queue)."""
        if time.monotonic() - ChatConsumer.redis_failed_at < 1:
            return await self._refuse_handshake(receive, send)
        try:
            # (Channels types the scope and messages as asgiref's TypedDicts; they are these mappings)
            return await super().__call__(scope, receive, send)  # type: ignore[arg-type]
        except RedisError:
            if self.channel_name is not None:
                raise  # a live socket's failure: daphne closes it
            ChatConsumer.redis_failed_at = time.monotonic()
            logger.warning("socket refused: Redis is unreachable")
            await self._refuse_handshake(receive, send)
        finally:
            # A socket that ends without `websocket.disconnect` (an exception nothing caught, the
            # server cancelling it) still gives back its connection slot, hub places and groups: left
            # alone, the slot counted against the user's cap until its registry entry expired.
            if getattr(self, "registered", False):
                await self.disconnect(CLOSE_SERVER_ERROR)

    @staticmethod
    async def _refuse_handshake(receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN, "reason": CLOSE_REASONS[CLOSE_TRY_AGAIN]})

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.user = user  # type: ignore[assignment]  # a User once the check below passes
        self._start_delivery()
        self.typing_tasks: dict[int, asyncio.Task[None]] = {}
        self.touched: dict[int, float] = {}
        self.registered = False
        self.heartbeat: asyncio.Task[None] | None = None
        self.flood = FloodGuard(settings.SOCKET_RATE_LIMIT)
        self.last_frame = self.clock()
        if self.scope.get(AUTH_KEY) == UNAVAILABLE:  # PostgreSQL could not say who this is: try again later
            return await self._refuse(CLOSE_TRY_AGAIN)
        if user is None or not user.is_authenticated:
            # Refused in the handshake (HTTP 401: core/edge.py under granian, crm_project/daphne_close.py
            # under daphne): a bad token never looks like an open socket; `onopen` is not called.
            return await self.close(code=CLOSE_UNAUTHORIZED, reason=CLOSE_REASONS[CLOSE_UNAUTHORIZED])
        if not origin_allowed(self.scope):
            return await self._refuse(CLOSE_FORBIDDEN_ORIGIN)
        try:
            count = await registry.connection_open(self.user.pk, self.channel_name)
            if count is None:
                return await self._refuse(CLOSE_TOO_MANY)
            self.registered = True
            presence.keep_process_alive()
            await self.channel_layer.group_add(user_group(self.user.pk), self.channel_name)
            conversations = await _conversations_state(self.user)
            for conversation_id, last_seq, _ in conversations:
                # Where this socket starts: a later message that overtakes an earlier one is held until
                # the earlier one comes (or is read back), even when it is the first this socket sees.
                self.order.start(conversation_id, last_seq)
                await self._subscribe(conversation_id)
        except Exception:  # Redis or PostgreSQL unreachable: the client reconnects later and catches up
            logger.warning("socket refused: a dependency is unreachable", exc_info=logger.isEnabledFor(logging.DEBUG))
            await self.disconnect(CLOSE_TRY_AGAIN)
            return await self._refuse(CLOSE_TRY_AGAIN)
        # Open only once subscribed: whatever commits after the client sees `ready` reaches it. `ready`
        # is the first frame: nothing is awaited between the accept and it (daphne's send does not
        # yield), so no pushed event can come before it.
        ready = orjson.dumps({"event": READY, "data": ready_payload(self.user, conversations)}).decode()
        await self.accept()
        await self.send(text_data=ready)
        self.heartbeat = asyncio.create_task(self._heartbeat())
        if count == 1:
            await presence.announce(self.user.pk, "online")
        logger.debug("socket open", extra={"user_id": self.user.pk})

    async def _refuse(self, code: int) -> None:
        await self.accept()  # a close code needs an open socket (no `ready` comes before it)
        await self.close(code=code, reason=CLOSE_REASONS[code])

    async def disconnect(self, code: int) -> None:
        if not self.registered:
            return
        self.registered = False
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        for task in self.typing_tasks.values():
            task.cancel()
        # Each step on its own: with Redis away, one failing must not leave this socket in the hub.
        steps = [self._forget(conversation_id) for conversation_id in self.member_of | self.monitoring | self.joined]
        steps.append(self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name))
        for step in steps:
            try:
                await step
            except Exception:
                logger.debug("socket clean-up step failed", exc_info=True)
        try:
            if await registry.connection_close(self.user.pk, self.channel_name) == 0:
                await presence.went_offline(self.user.pk)
        except Exception:  # the registry catches up: the entry expires, or dies with this process
            logger.debug("socket registry clean-up failed", exc_info=True)
        logger.debug("socket closed", extra={"user_id": self.user.pk, "code": code})

    async def send(  # type: ignore[override]  # as Channels' AsyncWebsocketConsumer.send
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        # DEBUG_SOCKET (a refused socket has no user, whatever ConsumerState says)
        if text_data is not None and self.user is not None and logger.isEnabledFor(logging.DEBUG):  # type: ignore[redundant-expr]
            log_frame("out", self.user.pk, text_data)
        try:
            if text_data is not None and not close:  # every pushed frame: to the server, not through two layers
                # (asgiref's type wants "bytes": None too; servers and Channels' tests want it absent)
                await self.base_send({"type": "websocket.send", "text": text_data})  # type: ignore[arg-type]
            else:
                await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Disconnected:  # the client just went away; its disconnect is on its way
            pass

    async def send_json(self, content: Any, close: bool = False) -> None:
        await self.send(text_data=orjson.dumps(content).decode(), close=close)  # through `send`, logged

    async def send_shared(self, message: Message) -> None:
        """A pushed frame's ASGI message, made once per event by the hub and shared by every socket
        of the process it goes to (`Hub._hand_out`): straight to the server (no dict, no `send` of
        ours per socket), and not waited for under granian: its `send` returns an awaitable of the
        server's (done once the frame is written) or, while a frame is being written, `core.frames_in_order`'s
        (the frame waits its turn in the socket's backlog). Waiting on granian's cost a wake-up of the
        loop per frame (docs/performance.md), and would let another task's frame in between the
        frames of one release (`SeqOrder`): what is pushed together is handed over together.
        Coroutines are awaited: daphne's `send` (written before it yields), and `core.frames_in_order`'s when
        the client has stopped reading (its backlog is full)."""
        if logger.isEnabledFor(logging.DEBUG):  # DEBUG_SOCKET
            log_frame("out", self.user.pk, message["text"])
        try:
            sent = self.base_send(message)  # type: ignore[arg-type]  # (asgiref's TypedDicts, as in `send`)
            if type(sent) is CoroutineType:
                await sent
        except Disconnected:
            pass

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch closes stale database connections before every handler, a hop to
        # its single sync thread per frame and per pushed event. Every database call here runs
        # through `in_db_thread`, which does that itself in its worker thread. A frame in goes to
        # `receive` without Channels' handler-name lookup and `websocket_receive` in between.
        if message["type"] == "websocket.receive":
            return await self.receive(text_data=message.get("text"), bytes_data=message.get("bytes"))
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def session_revoke(self, message: Message) -> None:
        await self.close(code=CLOSE_UNAUTHORIZED, reason=REVOKED_REASON)

    async def session_rights_changed(self, message: Message) -> None:
        """The user's role or office changed (`core.realtime.rights_changed`, after the write commits).
        The conversations monitored under the old rights go at once (nothing more of theirs reaches
        this socket while it closes), then the socket closes: the client reconnects, signed in with
        the rights it has now. Everything else this socket holds was granted at connect or join."""
        for conversation_id in list(self.monitoring):
            await self._forget(conversation_id)
        await self.close(code=CLOSE_RIGHTS_CHANGED, reason=CLOSE_REASONS[CLOSE_RIGHTS_CHANGED])

    async def _heartbeat(self) -> None:
        """Renew this socket's presence; close it when the client has gone silent."""
        interval = settings.SOCKET_PING_TIMEOUT / 1000 / 3
        while True:
            await self.pause(interval)
            if self.clock() - self.last_frame > settings.SOCKET_PING_TIMEOUT / 1000:
                await self.close(code=CLOSE_IDLE, reason=CLOSE_REASONS[CLOSE_IDLE])
                return
            try:
                await registry.connection_renew(self.user.pk, self.channel_name)
            except RedisError:  # renewed next time; the entry outlives a few missed renewals
                pass


def ready_payload(user: User, conversations: list[tuple[int, int, int]]) -> dict[str, Any]:
    """`ready`'s data: who the socket is signed in as, the server's clock, and where each
    conversation stands (what to catch up on with `after=<seq>`, the unread badge)."""
    return {
        "user": user_payload(user),
        "server_time": timezone.now().isoformat(),
        "conversations": [
            {"id": conversation_id, "last_seq": last_seq, "unread_count": unread}
            for conversation_id, last_seq, unread in conversations
        ],
    }
