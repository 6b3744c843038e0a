"""Frames in: counted against the rate limit, parsed, validated with the same serializers as REST,
and handled by calling the same services and selectors as REST (on a database thread), so every
rule holds identically at both doors. A frame with an `id` gets exactly one `ack` or `error`."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework import serializers

from core.db import in_db_thread
from core.errors import ApplicationError, CoreErrorCode, NotFound, RateLimited, ValidationFailed
from core.outages import unavailable
from core.realtime import conversation_group
from core.uploads import check_upload_intent
from messaging import events, selectors, services
from messaging.api.serializers import MessageEditSerializer, MessageSendSerializer, Prebuilt
from messaging.errors import SocketErrorCode
from messaging.models import AuditAction
from messaging.socket import presence, rates, registry

if TYPE_CHECKING:
    from accounts.models import User
    from messaging.socket.consumer_state import ConsumerState
else:
    ConsumerState = object

Fields = dict[str, Any]  # a frame's `data`, validated

logger = logging.getLogger("crm.socket")

PRESENCE_STATES = ("online", "away", "busy", "offline")


class ConversationFrame(serializers.Serializer[None]):
    conversation_id = serializers.IntegerField(min_value=1)


class MessageFrame(serializers.Serializer[None]):
    message_id = serializers.IntegerField(min_value=1)


class EditFrame(MessageFrame, MessageEditSerializer):
    """REST's edit (PUT messages/{message_id}), with the message in the frame."""


class PresenceFrame(serializers.Serializer[None]):
    presence = serializers.ChoiceField(choices=PRESENCE_STATES)


class UploadStartFrame(ConversationFrame):
    file_name = serializers.CharField(max_length=255)
    file_size = serializers.IntegerField()  # its limits are core.uploads.check_upload_intent's


class UploadFrame(serializers.Serializer[None]):
    upload_id = serializers.CharField(max_length=64)


class UploadProgressFrame(UploadFrame):
    progress = serializers.FloatField(min_value=0, max_value=100)


# Client → server events and the serializer of each one's `data`, built once (`Prebuilt`).
CLIENT_EVENTS: dict[str, Prebuilt | None] = {
    "join_conversation": Prebuilt(ConversationFrame),
    "leave_conversation": Prebuilt(ConversationFrame),
    "send_message": Prebuilt(MessageSendSerializer),  # REST's POST messages
    "edit_message": Prebuilt(EditFrame),
    "delete_message": Prebuilt(MessageFrame),
    "mark_message_read": Prebuilt(MessageFrame),
    "typing_start": Prebuilt(ConversationFrame),
    "typing_stop": Prebuilt(ConversationFrame),
    "update_presence": Prebuilt(PresenceFrame),
    "file_upload_start": Prebuilt(UploadStartFrame),
    "file_upload_progress": Prebuilt(UploadProgressFrame),
    "file_upload_complete": Prebuilt(UploadFrame),
    "ping": None,
}
_MISSING = {"required", "null", "blank"}


def frame_data(event: str, data: object) -> Fields:
    """The frame's `data` validated by its event's serializer: `missing_fields` when required ones
    are absent, else `invalid_field` naming the first bad one (the REST body's field errors, in the
    socket's error codes)."""
    if not isinstance(data, dict):
        raise ValidationFailed("data must be an object.", code=SocketErrorCode.BAD_FRAME)
    validate = CLIENT_EVENTS[event]
    if validate is None:
        return {}
    try:
        return validate(data)
    except serializers.ValidationError as exc:
        errors = exc.detail if isinstance(exc.detail, dict) else {"data": exc.detail}
    fields = validate.serializer.fields
    missing = [
        name
        for name, problems in errors.items()
        if name in fields
        and fields[name].required
        and any(getattr(problem, "code", None) in _MISSING for problem in problems)
    ]
    if missing:
        raise ValidationFailed(
            f"Missing {', '.join(missing)}.", code=SocketErrorCode.MISSING_FIELDS, details={"fields": missing}
        )
    problems: Any  # (DRF's ErrorDetail list of this field)
    name, problems = next(iter(errors.items()))
    raise ValidationFailed(f"{name}: {problems[0]}", code=SocketErrorCode.INVALID_FIELD, details={"field": name})


# --- database work (each call on a database thread) -----------------------------------------


@in_db_thread
def _membership_or_monitor(user: User, conversation_id: int) -> bool:
    """True when reading as a participant, False when monitoring read-only; 404 otherwise."""
    conversation, me = selectors.conversation_access(user, conversation_id)
    if me is None:
        services.monitoring_audit_record(
            actor=user, action=AuditAction.MONITOR_READ, conversation=conversation, details={"via": "socket"}
        )
    return me is not None


@in_db_thread
def _is_member(user: User, conversation_id: int) -> bool:
    selectors.membership_get(user, conversation_id)
    return True


@in_db_thread
def _edit(user: User, fields: Fields) -> dict[str, Any]:
    message = selectors.message_get_for(user, fields["message_id"])
    return events.message_payload(services.message_edit(actor=user, message=message, content=fields["content"]))


@in_db_thread
def _delete(user: User, fields: Fields) -> dict[str, Any]:
    message = selectors.message_get_for(user, fields["message_id"])
    services.message_delete(actor=user, message=message)
    return {"message_id": message.id, "conversation_id": message.conversation_id}


@in_db_thread
def _mark_read(user: User, fields: Fields) -> dict[str, Any]:
    message = selectors.message_get_for(user, fields["message_id"])
    seq = services.message_mark_read(user=user, message=message)  # monitors: 404, they leave no receipts
    return {"conversation_id": message.conversation_id, "seq": seq}


def _utf8_length_over(text: str, limit: int) -> bool:
    """Whether `text` takes more than `limit` bytes as UTF-8 (a character takes 1 to 4)."""
    return len(text) > limit or (len(text) * 4 > limit and len(text.encode()) > limit)


LOGGED_FRAME_CHARS = 4000


def log_frame(direction: str, user_id: int, text: str) -> None:
    """DEBUG_SOCKET: every frame in and out, long frames cut (the log handler's filter redacts tokens,
    also one a client put inside a frame)."""
    cut = text if len(text) <= LOGGED_FRAME_CHARS else f"{text[:LOGGED_FRAME_CHARS]}... ({len(text)} chars)"
    logger.debug("frame %s user=%s %s", direction, user_id, cut)


class FrameHandlers(ConsumerState):
    """The consumer's side that listens. State, set up in `connect`: `flood` (strikes), `last_frame`
    (for the idle check), `typing_tasks`, `touched`."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Every frame counts against the rate limit first, valid or not, text or binary."""
        self.last_frame = self.clock()
        if not self.registered:
            return
        if logger.isEnabledFor(logging.DEBUG):  # DEBUG_SOCKET
            log_frame("in", self.user.pk, text_data if text_data is not None else f"<{len(bytes_data or b'')} bytes>")
        allowed = rates.rate_allow(self.user.pk, settings.SOCKET_RATE_LIMIT)
        if text_data is None or _utf8_length_over(text_data, settings.SOCKET_MAX_FRAME_BYTES):
            incoming, refusal = (
                None,
                ValidationFailed(
                    f"Frames are JSON text of at most {settings.SOCKET_MAX_FRAME_BYTES} bytes.",
                    code=SocketErrorCode.FRAME_TOO_LARGE,
                ),
            )
        else:
            try:
                incoming, refusal = json.loads(text_data), None
            except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes ("[" * 3000)
                incoming, refusal = None, ValidationFailed("Frames must be JSON.", code=SocketErrorCode.BAD_JSON)
        request_id = incoming.get("id") if isinstance(incoming, dict) else None
        if request_id is not None and (not isinstance(request_id, (str, int)) or len(str(request_id)) > 64):
            request_id = None
        if not allowed:
            return await self._strike(request_id)
        if refusal is not None:
            return await self._error(request_id, refusal)
        await self._handle(request_id, incoming)

    async def _strike(self, request_id: str | int | None) -> None:
        if self.flood.strike(self.clock()):
            return await self.close(code=self.CLOSE_TOO_MANY, reason=self.FLOOD_REASON)
        await self._error(
            request_id,
            RateLimited("Too many events; slow down.", details={"limit_per_second": settings.SOCKET_RATE_LIMIT}),
        )

    async def _handle(self, request_id: str | int | None, frame: object) -> None:
        try:
            if not isinstance(frame, dict):
                raise ValidationFailed("A frame is a JSON object.", code=SocketErrorCode.BAD_FRAME)
            event = frame.get("event")
            if not isinstance(event, str) or event not in CLIENT_EVENTS:
                raise ValidationFailed(
                    "Unknown event.", code=SocketErrorCode.UNKNOWN_EVENT, details={"event": str(event)[:64]}
                )
            result = await getattr(self, f"on_{event}")(frame_data(event, frame.get("data", {})))
        except ApplicationError as exc:
            return await self._error(request_id, exc)
        except Exception as exc:
            down = unavailable(exc, "socket event")  # Redis or PostgreSQL unreachable: logged once per outage
            if down is not None:
                return await self._error(request_id, down)
            logger.exception("socket handler failed")
            failed = ApplicationError("Something went wrong on our side.", code=CoreErrorCode.SERVER_ERROR)
            return await self._error(request_id, failed)
        if request_id is not None:
            await self.send_json({"event": "ack", "id": request_id, "data": result or {}})

    async def _error(self, request_id: str | int | None, exc: ApplicationError) -> None:
        frame: dict[str, Any] = {
            "event": "error",
            "data": {"code": exc.code, "message": exc.message, "details": exc.details},
        }
        if request_id is not None:
            frame["id"] = request_id
        await self.send_json(frame)

    # --- handlers: `fields` is the frame's data, validated ------------------------------------

    async def on_ping(self, fields: Fields) -> dict[str, Any]:
        await registry.connection_renew(self.user.pk, self.channel_name)
        return {"pong": True}

    async def on_join_conversation(self, fields: Fields) -> dict[str, Any]:
        conversation_id = fields["conversation_id"]
        if await _membership_or_monitor(self.user, conversation_id):
            writable = True
            await self._subscribe(conversation_id)
        else:  # monitors get its message events from now on
            writable = False
            await self._monitor(conversation_id)
        self.joined.add(conversation_id)
        await self.channel_layer.group_add(conversation_group(conversation_id), self.channel_name)
        await self._touch(conversation_id)
        return {"conversation_id": conversation_id, "read_only": not writable}

    async def on_leave_conversation(self, fields: Fields) -> dict[str, Any]:
        conversation_id = fields["conversation_id"]
        if conversation_id in self.joined:
            self.joined.discard(conversation_id)
            await self.channel_layer.group_discard(conversation_group(conversation_id), self.channel_name)
        await self._unmonitor(conversation_id)
        return {"conversation_id": conversation_id}

    async def on_send_message(self, fields: Fields) -> dict[str, Any]:
        # On the event loop, not a database thread (core.async_db). The service checks membership
        # under the conversation's lock (404 otherwise): no read first.
        message, _ = await services.amessage_send(
            sender=self.user,
            conversation_id=fields["conversation_id"],
            content=fields["content"],
            type=fields["type"],
            reply_to_id=fields["reply_to_id"],
            client_id=fields["client_id"],
        )
        await self._touch(message["conversation_id"])
        return {"message": message}  # the payload its event carries (built once, from the stored row)

    async def on_edit_message(self, fields: Fields) -> dict[str, Any]:
        return {"message": await _edit(self.user, fields)}

    async def on_delete_message(self, fields: Fields) -> dict[str, Any]:
        return await _delete(self.user, fields)

    async def on_mark_message_read(self, fields: Fields) -> dict[str, Any]:
        return await _mark_read(self.user, fields)

    async def _require_member(self, conversation_id: int) -> None:
        if conversation_id not in self.member_of:
            await _is_member(self.user, conversation_id)
            await self._subscribe(conversation_id)

    async def on_typing_start(self, fields: Fields) -> dict[str, Any]:
        conversation_id = fields["conversation_id"]
        await self._require_member(conversation_id)
        previous = self.typing_tasks.pop(conversation_id, None)
        if previous is None:
            await self._relay(conversation_id, "user_typing_start")
        else:
            previous.cancel()
        # Typing expires on its own when typing_stop never comes (closed tab, lost network).
        self.typing_tasks[conversation_id] = asyncio.create_task(self._typing_expiry(conversation_id))
        return {"conversation_id": conversation_id}

    async def on_typing_stop(self, fields: Fields) -> dict[str, Any]:
        conversation_id = fields["conversation_id"]
        await self._require_member(conversation_id)
        task = self.typing_tasks.pop(conversation_id, None)
        if task is not None:
            task.cancel()
            await self._relay(conversation_id, "user_typing_stop")
        return {"conversation_id": conversation_id}

    async def _typing_expiry(self, conversation_id: int) -> None:
        await asyncio.sleep(settings.TYPING_TIMEOUT_MS / 1000)
        self.typing_tasks.pop(conversation_id, None)
        await self._relay(conversation_id, "user_typing_stop")

    async def _relay(self, conversation_id: int, event: str, **extra: object) -> None:
        await self.channel_layer.group_send(
            conversation_group(conversation_id),
            {
                "type": "realtime.event",
                "event": event,
                "data": {"conversation_id": conversation_id, "user_id": self.user.pk, **extra},
            },
        )

    async def on_update_presence(self, fields: Fields) -> dict[str, Any]:
        await registry.presence_set(self.user.pk, fields["presence"])
        await presence.announce(self.user.pk, fields["presence"])
        return {"presence": fields["presence"]}

    async def on_file_upload_start(self, fields: Fields) -> dict[str, Any]:
        conversation_id = fields["conversation_id"]
        await self._require_member(conversation_id)
        intent = check_upload_intent(file_name=fields["file_name"], file_size=fields["file_size"])
        upload_id = await registry.upload_start(self.user.pk, conversation_id, intent)
        await self._relay(
            conversation_id,
            "file_upload_progress",
            upload_id=upload_id,
            progress=0,
            state="started",
            file_name=intent["file_name"],
        )
        return {"upload_id": upload_id, **intent}

    async def _own_upload(self, upload_id: str) -> dict[str, Any]:
        upload = await registry.upload_get(upload_id)
        if upload is None or upload["user_id"] != self.user.pk:
            raise NotFound("Upload not found.")
        return upload

    async def on_file_upload_progress(self, fields: Fields) -> dict[str, Any]:
        upload_id, progress = fields["upload_id"], fields["progress"]
        upload = await self._own_upload(upload_id)
        await self._relay(
            upload["conversation_id"],
            "file_upload_progress",
            upload_id=upload_id,
            progress=progress,
            state="uploading",
            file_name=upload["file_name"],
        )
        return {"upload_id": upload_id, "progress": progress}

    async def on_file_upload_complete(self, fields: Fields) -> dict[str, Any]:
        upload_id = fields["upload_id"]
        upload = await self._own_upload(upload_id)
        await registry.upload_finish(upload_id)
        await self._relay(
            upload["conversation_id"],
            "file_upload_progress",
            upload_id=upload_id,
            progress=100,
            state="completed",
            file_name=upload["file_name"],
        )
        return {"upload_id": upload_id}

    async def _touch(self, conversation_id: int) -> None:
        """Mark the conversation active for /socket-stats, at most every few seconds per socket."""
        now = time.monotonic()
        if now - self.touched.get(conversation_id, 0) > 10:
            self.touched[conversation_id] = now
            try:
                await registry.conversation_touch(conversation_id)
            except RedisError:  # a statistic: never fail the action it follows
                pass
