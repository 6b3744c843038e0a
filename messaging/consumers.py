"""The one WebSocket consumer: every conversation of a user multiplexed on one socket.

Frames in: `{"event", "data", "id"?}`; a frame with an `id` gets exactly one `ack` or `error`.
Frames out: `{"event", "data"}`. Handlers call the same services and selectors as REST (through
`database_sync_to_async`), so every rule holds identically. See docs/websocket.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from redis.exceptions import RedisError

from core.errors import ApplicationError, NotFound, RateLimited, ValidationFailed
from core.outages import unavailable
from core.realtime import conversation_group, user_group
from core.realtime import frame as event_frame
from messaging import events, selectors, services
from messaging.models import AuditAction, Conversation
from messaging.socket import database_sync_to_async, deliveries, presence, registry
from messaging.socket.flood import FloodGuard
from messaging.socket.auth import origin_allowed
from messaging.socket.hub import hub

logger = logging.getLogger("crm.socket")


CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_TOO_MANY = 4429
CLOSE_IDLE = 4408
CLOSE_TRY_AGAIN = 4503  # Redis or PostgreSQL is unreachable right now: reconnect later (1013 is not allowed to servers)

PRESENCE_STATES = ("online", "away", "busy", "offline")

# Client → server events and the fields each must carry.
CLIENT_EVENTS = {
    "join_conversation": ("conversation_id",),
    "leave_conversation": ("conversation_id",),
    "send_message": ("conversation_id",),
    "edit_message": ("message_id", "content"),
    "delete_message": ("message_id",),
    "mark_message_read": ("message_id",),
    "typing_start": ("conversation_id",),
    "typing_stop": ("conversation_id",),
    "update_presence": ("presence",),
    "file_upload_start": ("conversation_id", "file_name", "file_size"),
    "file_upload_progress": ("upload_id", "progress"),
    "file_upload_complete": ("upload_id",),
    "ping": (),
}

# Server → client events (spec section 4), plus the protocol's own `ack`, `error` and `pong`.
SERVER_EVENTS = (
    "message_received", "message_edited", "message_deleted", "message_delivered", "message_read",
    "conversation_created", "conversation_updated", "user_joined_conversation", "user_left_conversation",
    "user_typing_start", "user_typing_stop", "user_status_changed", "system_announcement",
    "notification_received", "file_upload_progress", "conversation_cleared",
)


def _int_field(data: dict, name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationFailed(f"{name} must be an id.", code="invalid_field", details={"field": name})
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed(f"{name} must be an id.", code="invalid_field", details={"field": name}) from None


@database_sync_to_async
def _membership_or_monitor(user, conversation_id: int) -> bool:
    """True when reading as a participant, False when monitoring read-only; 404 otherwise."""
    conversation, me = selectors.conversation_access(user, conversation_id)
    if me is None:
        services.monitoring_audit_record(actor=user, action=AuditAction.MONITOR_READ, conversation=conversation,
                                         details={"via": "socket"})
    return me is not None


@database_sync_to_async
def _is_member(user, conversation_id: int) -> bool:
    selectors.membership_get(user, conversation_id)
    return True


@database_sync_to_async
def _send(user, data: dict) -> dict:
    content = data.get("content", "")
    if not isinstance(content, str):
        raise ValidationFailed("content must be text.", code="invalid_field", details={"field": "content"})
    client_id = data.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise ValidationFailed("client_id must be text.", code="invalid_field", details={"field": "client_id"})
    # The service checks membership under the conversation's lock (404 otherwise): no read first.
    message, _ = services.message_send(
        sender=user, conversation=Conversation(pk=_int_field(data, "conversation_id")), content=content,
        type=data.get("type") or "text", reply_to_id=data.get("reply_to_id"),
        client_id=client_id,
    )
    return events.message_payload(message)


@database_sync_to_async
def _edit(user, data: dict) -> dict:
    content = data.get("content")
    if not isinstance(content, str):
        raise ValidationFailed("content must be text.", code="invalid_field", details={"field": "content"})
    message = selectors.message_get_for(user, _int_field(data, "message_id"))
    return events.message_payload(services.message_edit(actor=user, message=message, content=content))


@database_sync_to_async
def _delete(user, data: dict) -> dict:
    message = selectors.message_get_for(user, _int_field(data, "message_id"))
    services.message_delete(actor=user, message=message)
    return {"message_id": message.id, "conversation_id": message.conversation_id}


@database_sync_to_async
def _mark_read(user, data: dict) -> dict:
    message = selectors.message_get_for(user, _int_field(data, "message_id"))
    selectors.membership_get(user, message.conversation_id)  # monitors leave no receipts
    seq = services.message_mark_read(user=user, message=message)
    return {"conversation_id": message.conversation_id, "seq": seq}


@database_sync_to_async
def _missing_messages(conversation_id: int, after: int, up_to: int) -> list[dict]:
    from messaging.models import Message

    rows = list(Message.objects.filter(conversation_id=conversation_id, seq__gt=after, seq__lte=up_to)
                .select_related("sender").order_by("seq"))
    return [{"conversation_id": m.conversation_id, "seq": m.seq, "sender_id": m.sender_id,
             "frame": event_frame(events.MESSAGE_RECEIVED, events.message_payload(m))}
            for m in selectors.load_attachments(rows)]


@database_sync_to_async
def _conversations_last_seq(user) -> list[tuple[int, int]]:
    return selectors.member_conversations_last_seq(user)


def _utf8_length_over(text: str, limit: int) -> bool:
    """Whether `text` takes more than `limit` bytes as UTF-8 (a character takes 1 to 4)."""
    return len(text) > limit or (len(text) * 4 > limit and len(text.encode()) > limit)


LOGGED_FRAME_CHARS = 4000


def _log_frame(direction: str, user_id: int, text: str) -> None:
    """DEBUG_SOCKET: every frame in and out, long frames cut (the log handler's filter redacts tokens,
    also one a client put inside a frame)."""
    cut = text if len(text) <= LOGGED_FRAME_CHARS else f"{text[:LOGGED_FRAME_CHARS]}... ({len(text)} chars)"
    logger.debug("frame %s user=%s %s", direction, user_id, cut)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    user = None
    channel_name = None
    redis_failed_at = float("-inf")  # when this process last failed to make a socket's channel

    async def __call__(self, scope, receive, send):
        """Channels makes each socket's channel (a Redis subscription) before anything else; with
        Redis away that fails, and the client is told to try again later instead of getting a 500.
        For a second after a failure, sockets are refused without trying (each try leaves a queue)."""
        if time.monotonic() - ChatConsumer.redis_failed_at < 1:
            return await self._refuse_handshake(receive, send)
        try:
            return await super().__call__(scope, receive, send)
        except RedisError:
            if self.channel_name is not None:
                raise  # a live socket's failure: daphne closes it
            ChatConsumer.redis_failed_at = time.monotonic()
            logger.warning("socket refused: Redis is unreachable")
            await self._refuse_handshake(receive, send)

    @staticmethod
    async def _refuse_handshake(receive, send):
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN})

    async def connect(self):
        self.user = self.scope.get("user")
        self.member_of: set[int] = set()  # conversations whose members group this socket is in
        self.monitoring: set[int] = set()  # conversations joined read-only by monitoring staff
        self.joined: set[int] = set()  # conversations whose ephemeral traffic (typing, uploads) is wanted
        self.last_pushed: dict[int, int] = {}
        self.held: dict[int, dict[int, dict]] = {}
        self.typing_tasks: dict[int, asyncio.Task] = {}
        self.touched: dict[int, float] = {}
        self.registered = False
        self.heartbeat: asyncio.Task | None = None
        self.flood = FloodGuard(settings.SOCKET_RATE_LIMIT)
        self.last_frame = time.monotonic()
        if self.user is None or not self.user.is_authenticated:
            return await self._refuse(CLOSE_UNAUTHORIZED)
        if not origin_allowed(self.scope):
            return await self._refuse(CLOSE_FORBIDDEN_ORIGIN)
        try:
            count = await registry.connection_open(self.user.pk, self.channel_name)
            if count is None:
                return await self._refuse(CLOSE_TOO_MANY)
            self.registered = True
            presence.keep_process_alive()
            await self.channel_layer.group_add(user_group(self.user.pk), self.channel_name)
            for conversation_id, last_seq in await _conversations_last_seq(self.user):
                # Where this socket starts: a later message that overtakes an earlier one is held until
                # the earlier one comes (or is read back), even when it is the first this socket sees.
                self.last_pushed[conversation_id] = last_seq
                await self._subscribe(conversation_id)
        except Exception:  # Redis or PostgreSQL unreachable: the client reconnects later and catches up
            logger.warning("socket refused: a dependency is unreachable", exc_info=logger.isEnabledFor(logging.DEBUG))
            await self.disconnect(CLOSE_TRY_AGAIN)
            return await self._refuse(CLOSE_TRY_AGAIN)
        # Open only once subscribed: whatever commits after the client sees the socket open reaches it.
        await self.accept()
        self.heartbeat = asyncio.create_task(self._heartbeat())
        if count == 1:
            await self._announce_presence("online")
        logger.debug("socket open", extra={"user_id": self.user.pk})

    async def _refuse(self, code: int):
        await self.accept()  # a close code needs an open socket
        await self.close(code=code)

    async def disconnect(self, code):
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

    async def send(self, text_data=None, bytes_data=None, close=False):
        if text_data is not None and self.user is not None and logger.isEnabledFor(logging.DEBUG):  # DEBUG_SOCKET
            _log_frame("out", self.user.pk, text_data)
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Disconnected:  # the client just went away; its disconnect is on its way
            pass

    async def send_json(self, content, close=False):
        await self.send(text_data=await self.encode_json(content), close=close)  # through `send`, logged

    async def dispatch(self, message):
        # Channels' own dispatch closes stale database connections before every handler, a hop to
        # its single sync thread per frame and per pushed event. Every database call here runs
        # through `database_sync_to_async`, which does that itself in its worker thread.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- frames in ------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Every frame counts against the rate limit first, valid or not, text or binary."""
        self.last_frame = time.monotonic()
        if not self.registered:
            return
        if logger.isEnabledFor(logging.DEBUG):  # DEBUG_SOCKET
            _log_frame("in", self.user.pk, text_data if text_data is not None else f"<{len(bytes_data or b'')} bytes>")
        allowed = registry.rate_allow(self.user.pk, settings.SOCKET_RATE_LIMIT)
        if text_data is None or _utf8_length_over(text_data, settings.SOCKET_MAX_FRAME_BYTES):
            incoming, refusal = None, ValidationFailed(
                f"Frames are JSON text of at most {settings.SOCKET_MAX_FRAME_BYTES} bytes.", code="frame_too_large")
        else:
            try:
                incoming, refusal = json.loads(text_data), None
            except ValueError:
                incoming, refusal = None, ValidationFailed("Frames must be JSON.", code="bad_json")
        request_id = incoming.get("id") if isinstance(incoming, dict) else None
        if request_id is not None and (not isinstance(request_id, (str, int)) or len(str(request_id)) > 64):
            request_id = None
        if not allowed:
            return await self._strike(request_id)
        if refusal is not None:
            return await self._error(request_id, refusal)
        await self._handle(request_id, incoming)

    async def _strike(self, request_id):
        if self.flood.strike(time.monotonic()):
            return await self.close(code=CLOSE_TOO_MANY)
        await self._error(request_id, RateLimited("Too many events; slow down.",
                                                  details={"limit_per_second": settings.SOCKET_RATE_LIMIT}))

    async def _handle(self, request_id, frame):
        try:
            event, data = self._validate(frame)
            result = await getattr(self, f"on_{event}")(data)
        except ApplicationError as exc:
            return await self._error(request_id, exc)
        except Exception as exc:
            down = unavailable(exc, "socket event")  # Redis or PostgreSQL unreachable: logged once per outage
            if down is not None:
                return await self._error(request_id, down)
            logger.exception("socket handler failed")
            return await self._error(request_id, ApplicationError("Something went wrong on our side.", code="server_error"))
        if request_id is not None:
            await self.send_json({"event": "ack", "id": request_id, "data": result or {}})

    def _validate(self, frame) -> tuple[str, dict]:
        if not isinstance(frame, dict):
            raise ValidationFailed("A frame is a JSON object.", code="bad_frame")
        event, data = frame.get("event"), frame.get("data", {})
        if not isinstance(event, str) or event not in CLIENT_EVENTS:
            raise ValidationFailed("Unknown event.", code="unknown_event", details={"event": str(event)[:64]})
        if not isinstance(data, dict):
            raise ValidationFailed("data must be an object.", code="bad_frame")
        missing = [name for name in CLIENT_EVENTS[event] if data.get(name) in (None, "")]
        if missing:
            raise ValidationFailed(f"Missing {', '.join(missing)}.", code="missing_fields", details={"fields": missing})
        return event, data

    async def _error(self, request_id, exc: ApplicationError):
        frame = {"event": "error", "data": {"code": exc.code, "message": exc.message, "details": exc.details}}
        if request_id is not None:
            frame["id"] = request_id
        await self.send_json(frame)

    # --- handlers -------------------------------------------------------------------------

    async def on_ping(self, data):
        await registry.connection_renew(self.user.pk, self.channel_name)
        return {"pong": True}

    async def on_join_conversation(self, data):
        conversation_id = _int_field(data, "conversation_id")
        writable = await _membership_or_monitor(self.user, conversation_id)
        if writable:
            await self._subscribe(conversation_id)
        elif conversation_id not in self.monitoring:  # monitors get its message events from now on
            self.monitoring.add(conversation_id)
            await hub().join(conversation_id, self)
        self.joined.add(conversation_id)
        await self.channel_layer.group_add(conversation_group(conversation_id), self.channel_name)
        await self._touch(conversation_id)
        return {"conversation_id": conversation_id, "read_only": not writable}

    async def on_leave_conversation(self, data):
        conversation_id = _int_field(data, "conversation_id")
        if conversation_id in self.joined:
            self.joined.discard(conversation_id)
            await self.channel_layer.group_discard(conversation_group(conversation_id), self.channel_name)
        if conversation_id in self.monitoring:
            self.monitoring.discard(conversation_id)
            await self._unsubscribe_members(conversation_id)
        return {"conversation_id": conversation_id}

    async def on_send_message(self, data):
        message = await _send(self.user, data)
        await self._touch(message["conversation_id"])
        return {"message": message}

    async def on_edit_message(self, data):
        return {"message": await _edit(self.user, data)}

    async def on_delete_message(self, data):
        return await _delete(self.user, data)

    async def on_mark_message_read(self, data):
        return await _mark_read(self.user, data)

    async def _require_member(self, conversation_id: int):
        if conversation_id not in self.member_of:
            await _is_member(self.user, conversation_id)
            await self._subscribe(conversation_id)

    async def on_typing_start(self, data):
        conversation_id = _int_field(data, "conversation_id")
        await self._require_member(conversation_id)
        previous = self.typing_tasks.pop(conversation_id, None)
        if previous is None:
            await self._relay(conversation_id, "user_typing_start")
        else:
            previous.cancel()
        # Typing expires on its own when typing_stop never comes (closed tab, lost network).
        self.typing_tasks[conversation_id] = asyncio.create_task(self._typing_expiry(conversation_id))
        return {"conversation_id": conversation_id}

    async def on_typing_stop(self, data):
        conversation_id = _int_field(data, "conversation_id")
        await self._require_member(conversation_id)
        task = self.typing_tasks.pop(conversation_id, None)
        if task is not None:
            task.cancel()
            await self._relay(conversation_id, "user_typing_stop")
        return {"conversation_id": conversation_id}

    async def _typing_expiry(self, conversation_id: int):
        await asyncio.sleep(settings.TYPING_TIMEOUT_MS / 1000)
        self.typing_tasks.pop(conversation_id, None)
        await self._relay(conversation_id, "user_typing_stop")

    async def _relay(self, conversation_id: int, event: str, **extra):
        await self.channel_layer.group_send(conversation_group(conversation_id), {
            "type": "realtime.event", "event": event,
            "data": {"conversation_id": conversation_id, "user_id": self.user.pk, **extra},
        })

    async def on_update_presence(self, data):
        presence = data.get("presence")
        if presence not in PRESENCE_STATES:
            raise ValidationFailed("presence must be online, away, busy or offline.", code="invalid_field",
                                   details={"field": "presence"})
        await registry.presence_set(self.user.pk, presence)
        await self._announce_presence(presence)
        return {"presence": presence}

    async def _announce_presence(self, status: str):
        await presence.announce(self.user.pk, status)

    async def on_file_upload_start(self, data):
        from core.uploads import check_upload_intent

        conversation_id = _int_field(data, "conversation_id")
        await self._require_member(conversation_id)
        intent = check_upload_intent(file_name=data.get("file_name"), file_size=data.get("file_size"))
        upload_id = await registry.upload_start(self.user.pk, conversation_id, intent)
        await self._relay(conversation_id, "file_upload_progress", upload_id=upload_id, progress=0, state="started",
                          file_name=intent["file_name"])
        return {"upload_id": upload_id, **intent}

    async def _own_upload(self, data) -> dict:
        upload = await registry.upload_get(str(data.get("upload_id")))
        if upload is None or upload["user_id"] != self.user.pk:
            raise NotFound("Upload not found.")
        return upload

    async def on_file_upload_progress(self, data):
        upload = await self._own_upload(data)
        progress = data.get("progress")
        if isinstance(progress, bool) or not isinstance(progress, (int, float)) or not 0 <= progress <= 100:
            raise ValidationFailed("progress is a number from 0 to 100.", code="invalid_field", details={"field": "progress"})
        await self._relay(upload["conversation_id"], "file_upload_progress", upload_id=data["upload_id"],
                          progress=progress, state="uploading", file_name=upload["file_name"])
        return {"upload_id": data["upload_id"], "progress": progress}

    async def on_file_upload_complete(self, data):
        upload = await self._own_upload(data)
        await registry.upload_finish(data["upload_id"])
        await self._relay(upload["conversation_id"], "file_upload_progress", upload_id=data["upload_id"],
                          progress=100, state="completed", file_name=upload["file_name"])
        return {"upload_id": data["upload_id"]}

    # --- events out -----------------------------------------------------------------------

    async def realtime_event(self, message):
        """An event for this user alone (or for sockets that joined a conversation)."""
        event, data = message["event"], message["data"]
        if event in ("user_typing_start", "user_typing_stop", "file_upload_progress") and data.get("user_id") == self.user.pk:
            return  # no echo of your own ephemeral traffic
        if event in (events.CONVERSATION_CREATED, events.USER_JOINED_CONVERSATION):
            await self._subscribe(data["id"])
        elif event == events.USER_LEFT_CONVERSATION and data.get("user_id") == self.user.pk:
            await self._forget(data["conversation_id"])
        await self.send_json({"event": event, "data": data})

    async def conversation_event(self, message):
        """A conversation's event, published once for all its members as a ready-made frame (the
        process's hub hands it to each of its sockets in that conversation)."""
        conversation_id = message["conversation_id"]
        if self.user.pk not in message["user_ids"] and not (message["monitors"] and conversation_id in self.monitoring):
            return  # not (or no longer) theirs
        if message["seq"] is not None:
            return await self._push_message(message)
        await self.send(text_data=message["frame"])

    async def _push_message(self, message: dict):
        """Exactly once per socket and in `seq` order per conversation, whatever order commits arrive in."""
        conversation_id, seq = message["conversation_id"], message["seq"]
        last = self.last_pushed.get(conversation_id)
        if last is not None and seq <= last:
            return  # already pushed (a repeat or a gap we filled)
        if last is not None and seq > last + 1:
            self.held.setdefault(conversation_id, {})[seq] = message
            if len(self.held[conversation_id]) == 1:
                asyncio.create_task(self._fill_gap(conversation_id))
            return
        await self._emit_message(message)
        held = self.held.get(conversation_id, {})
        while self.last_pushed[conversation_id] + 1 in held:
            await self._emit_message(held.pop(self.last_pushed[conversation_id] + 1))

    async def _fill_gap(self, conversation_id: int):
        """A later message overtook an earlier one: wait briefly, then read the gap from the database."""
        await asyncio.sleep(settings.SOCKET_GAP_WAIT_MS / 1000)
        held = self.held.pop(conversation_id, {})
        if not held or conversation_id not in self.member_of | self.monitoring:
            return  # nothing waits, or the user left the conversation meanwhile
        last = self.last_pushed.get(conversation_id, 0)
        try:
            missing = await _missing_messages(conversation_id, last, max(held))
        except Exception as exc:  # PostgreSQL away: hold on to what came, try again after the next wait
            if unavailable(exc, "socket gap fill") is None:
                logger.exception("socket gap fill failed")
            self.held.setdefault(conversation_id, {}).update(held)
            asyncio.create_task(self._fill_gap(conversation_id))
            return
        for message in missing:
            await self._emit_message(message)

    async def _emit_message(self, message: dict):
        conversation_id, seq = message["conversation_id"], message["seq"]
        if seq <= self.last_pushed.get(conversation_id, 0):
            return
        self.last_pushed[conversation_id] = seq
        await self.send(text_data=message["frame"])
        if message["sender_id"] != self.user.pk and conversation_id in self.member_of:
            deliveries.note(self.user.pk, conversation_id, seq)

    async def _subscribe(self, conversation_id: int):
        """Message events of a conversation this user takes part in, joined or not."""
        if conversation_id not in self.member_of:
            self.member_of.add(conversation_id)
            await hub().join(conversation_id, self, self.last_pushed.get(conversation_id))

    async def _unsubscribe_members(self, conversation_id: int):
        if conversation_id not in self.member_of and conversation_id not in self.monitoring:
            self.last_pushed.pop(conversation_id, None)
            self.held.pop(conversation_id, None)
            await hub().leave(conversation_id, self)

    async def _forget(self, conversation_id: int):
        """Removed from the conversation (or closing): no more of its events on this socket."""
        self.member_of.discard(conversation_id)
        self.monitoring.discard(conversation_id)
        self.joined.discard(conversation_id)
        await self.channel_layer.group_discard(conversation_group(conversation_id), self.channel_name)
        await self._unsubscribe_members(conversation_id)

    async def _touch(self, conversation_id: int):
        """Mark the conversation active for /socket-stats, at most every few seconds per socket."""
        now = time.monotonic()
        if now - self.touched.get(conversation_id, 0) > 10:
            self.touched[conversation_id] = now
            try:
                await registry.conversation_touch(conversation_id)
            except RedisError:  # a statistic: never fail the action it follows
                pass

    async def session_revoke(self, message):
        await self.close(code=CLOSE_UNAUTHORIZED)

    async def _heartbeat(self):
        """Renew this socket's presence; close it when the client has gone silent."""
        interval = settings.SOCKET_PING_TIMEOUT / 1000 / 3
        while True:
            await asyncio.sleep(interval)
            if time.monotonic() - self.last_frame > settings.SOCKET_PING_TIMEOUT / 1000:
                await self.close(code=CLOSE_IDLE)
                return
            try:
                await registry.connection_renew(self.user.pk, self.channel_name)
            except RedisError:  # renewed next time; the entry outlives a few missed renewals
                pass
