"""The WebSocket protocol at `/ws/` as an AsyncAPI 3.0 document, served at `/api/ws-schema`.

It describes the server: it *receives* the client events (`socket.incoming.CLIENT_EVENTS`, each
validated by its serializer) and answers each one that carries an `id` with one `ack` or `error`;
it *sends* the server events (`socket.outgoing.SERVER_EVENTS`), whose payloads `events.py` and the
services build. The tests in
`messaging/tests/test_asyncapi.py` keep the three equal: every event the consumer accepts or
sends is here, real frames validate against these schemas, and the document validates against
the AsyncAPI 3.0.0 JSON Schema (`clients/asyncapi/`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from accounts.models import Role
from core.edge import CLOSE_SERVICE_RESTART, SERVICE_RESTART_REASON
from core.errors import registry_schema
from messaging.consumers import (
    CLOSE_FORBIDDEN_ORIGIN,
    CLOSE_IDLE,
    CLOSE_REASONS,
    CLOSE_RIGHTS_CHANGED,
    CLOSE_TOO_MANY,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHORIZED,
    FLOOD_REASON,
    READY,
    REVOKED_REASON,
)
from messaging.models import ConversationType, MessageType, TriageStatus
from messaging.socket.incoming import CLIENT_EVENTS, PRESENCE_STATES
from messaging.socket.outgoing import SERVER_EVENTS

Schema = dict[str, Any]  # a JSON Schema (or AsyncAPI) object

APPLICATION_STATUSES = [
    "draft",
    "submitted",
    "conditional_offer",
    "unconditional_offer",
    "rejected",
    "offer_accepted",
    "deposit_paid",
    "confirmation_issued",
    "visa_applied",
    "visa_granted",
    "visa_refused",
    "enrolled",
    "withdrawn",
]

INT = {"type": "integer"}
STR = {"type": "string"}
TIME = {"type": "string", "format": "date-time"}


def _null(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def _object(required: Schema, optional: Schema | None = None, **extra: Any) -> Schema:  # extra: title, description
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": False,
        **extra,
    }


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS = {
    "User": _object(
        {
            "id": INT,
            "email": STR,
            "first_name": STR,
            "last_name": STR,
            "role": {"type": "string", "enum": list(Role.values)},
            "office_id": _null(INT),
        }
    ),
    "Attachment": _object(
        {
            "id": INT,
            "file_name": STR,
            "mime_type": STR,
            "size": INT,
            "width": _null(INT),
            "height": _null(INT),
            "url": {"type": "string", "description": "Authorised download path"},
        }
    ),
    "Message": _object(
        {
            "id": INT,
            "conversation_id": INT,
            "seq": {"type": "integer", "description": "Increasing per conversation"},
            "sender_id": _null(INT),
            "sender": _null(_ref("User")),
            "type": {"type": "string", "enum": list(MessageType.values)},
            "content": {"type": "string", "description": "Empty when deleted"},
            "reply_to_id": _null(INT),
            "attachments": {"type": "array", "items": _ref("Attachment")},
            "created_at": TIME,
            "edited_at": _null(TIME),
            "deleted": {"type": "boolean"},
        },
        description="The same representation as REST's messages",
    ),
    "Conversation": _object(
        {
            "id": INT,
            "type": {"type": "string", "enum": list(ConversationType.values)},
            "title": STR,
            "office_id": _null(INT),
            "lead_id": _null(INT),
            "participants": {"type": "array", "items": _ref("User")},
            "last_message": _null(_ref("Message")),
            "last_seq": INT,
            "unread_count": INT,
            "is_archived": {"type": "boolean"},
            "is_pinned": {"type": "boolean"},
            "muted_until": _null(TIME),
            "status": {"type": "string", "enum": list(TriageStatus.values)},
            "snoozed_until": _null(TIME),
            "created_at": TIME,
            "updated_at": TIME,
        },
        description="As REST's conversation; pushed ones carry no per-user state (unread_count 0, flags false, "
        "status open)",
    ),
    # applications.representation.ApplicationSerializer (applications sit above messaging: written out here,
    # and applications/tests/test_events.py checks real frames and the statuses against it).
    "Application": _object(
        {
            "id": INT,
            "student_id": INT,
            "student": _object({"id": INT, "first_name": STR, "last_name": STR}),
            "course_id": INT,
            "course": _object(
                {
                    "id": INT,
                    "name": STR,
                    "level": STR,
                    "field": STR,
                    "currency": STR,
                    "tuition_fee": {"type": "string", "description": "Decimal, per year"},
                    "university_id": INT,
                    "university_name": STR,
                    "country": STR,
                }
            ),
            "intake": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"},
            "destination": STR,
            "consultant_id": INT,
            "consultant": _object({"id": INT, "first_name": STR, "last_name": STR}),
            "office_id": INT,
            "status": {"type": "string", "enum": APPLICATION_STATUSES},
            "next_statuses": {"type": "array", "items": {"type": "string", "enum": APPLICATION_STATUSES}},
            "status_history": {
                "type": "array",
                "items": _object(
                    {
                        "id": INT,
                        "from": STR,
                        "to": {"type": "string", "enum": APPLICATION_STATUSES},
                        "by_id": _null(INT),
                        "by_name": _null(STR),
                        "at": TIME,
                        "note": STR,
                        "checklist_override": {"type": "boolean"},
                    }
                ),
            },
            "offer": _object(
                {"conditions": STR, "deposit_amount": _null(STR), "deposit_due": _null(STR), "document_id": _null(INT)}
            ),
            "confirmation": _object({"kind": STR, "number": STR, "document_id": _null(INT)}),
            "visa": _object(
                {"applied_on": _null(STR), "decided_on": _null(STR), "reference": STR, "document_id": _null(INT)}
            ),
            "created_at": TIME,
            "updated_at": TIME,
        },
        description="As REST's application (GET /api/v1/applications/{id}); never any commission figure",
    ),
    # proposals.representation.ProposalSerializer (written out here, as Application above;
    # proposals/tests/test_events.py checks real frames against it).
    "Proposal": _object(
        {
            "id": INT,
            "student_id": INT,
            "student": _object({"id": INT, "first_name": STR, "last_name": STR}),
            "consultant_id": INT,
            "consultant": _object({"id": INT, "first_name": STR, "last_name": STR}),
            "office_id": INT,
            "status": {"type": "string", "enum": ["draft", "sent", "accepted", "declined", "expired"]},
            "message": STR,
            "expires_at": _null(TIME),
            "sent_at": _null(TIME),
            "decided_at": _null(TIME),
            "decline_reason": STR,
            "items": {
                "type": "array",
                "items": _object(
                    {
                        "id": INT,
                        "course_id": INT,
                        "course": {"type": "object", "description": "As an application's course"},
                        "intake": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"},
                        "note": STR,
                        "eligible": {"type": "boolean"},
                        "estimated_cost": _object(
                            {
                                "tuition": STR,
                                "living": _null(STR),
                                "living_currency": _null(STR),
                                "total": _null(STR),
                                "currency": STR,
                            }
                        ),
                        "application_id": _null(INT),
                    }
                ),
            },
            "estimated_cost": {
                "type": "array",
                "items": _object({"currency": STR, "lowest": STR, "highest": STR}),
            },
            "created_at": TIME,
            "updated_at": TIME,
        },
        description="As REST's proposal (GET /api/v1/proposals/{id})",
    ),
    # followups.representation.TaskSerializer
    "Task": _object(
        {
            "id": INT,
            "title": STR,
            "notes": STR,
            "due_at": TIME,
            "priority": {"type": "string", "enum": ["low", "normal", "high"]},
            "status": {"type": "string", "enum": ["open", "done"]},
            "overdue": {"type": "boolean"},
            "assignee_id": INT,
            "assignee": _object({"id": INT, "first_name": STR, "last_name": STR}),
            "lead_id": _null(INT),
            "student_id": _null(INT),
            "application_id": _null(INT),
            "subject": _object(
                {"kind": {"type": "string", "enum": ["lead", "student", "application"]}, "id": INT, "name": STR}
            ),
            "office_id": _null(INT),
            "reminded_at": _null(TIME),
            "done_at": _null(TIME),
            "done_by_id": _null(INT),
            "created_by_id": _null(INT),
            "created_at": TIME,
            "updated_at": TIME,
        },
        description="As REST's task (GET /api/v1/tasks/{id})",
    ),
    "ReadState": _object({"conversation_id": INT, "user_id": INT, "seq": INT}),
    "ErrorData": _object({"code": STR, "message": STR, "details": {"type": "object"}}),
}

ID = {"type": ["string", "integer"], "maxLength": 64, "description": "Set it to get exactly one ack or error back"}
CONVERSATION = {"conversation_id": INT}
UPLOAD_ID = {"upload_id": STR}

# Client → server: (summary, required data fields, optional data fields, ack data)
# event: (summary, required data fields, optional data fields, the ack's data)
CLIENT: dict[str, tuple[str, Schema, Schema, Schema]] = {
    "join_conversation": (
        "Follow a conversation's typing and upload progress (monitors: read-only, audited)",
        CONVERSATION,
        {},
        _object({**CONVERSATION, "read_only": {"type": "boolean"}}),
    ),
    "leave_conversation": ("Stop following a joined conversation", CONVERSATION, {}, _object(CONVERSATION)),
    "send_message": (
        "Send a message; idempotent by client_id",
        CONVERSATION,
        {
            "content": STR,
            "type": {
                "type": "string",
                "enum": [MessageType.TEXT, MessageType.IMAGE, MessageType.VIDEO, MessageType.FILE],
            },
            "reply_to_id": _null(INT),
            "client_id": _null({"type": "string", "maxLength": 64}),
        },
        _object({"message": _ref("Message")}),
    ),
    "edit_message": (
        "Edit your message within MESSAGE_EDIT_TIME_LIMIT",
        {"message_id": INT, "content": STR},
        {},
        _object({"message": _ref("Message")}),
    ),
    "delete_message": (
        "Delete your message (or moderate one you monitor)",
        {"message_id": INT},
        {},
        _object({"message_id": INT, "conversation_id": INT}),
    ),
    "mark_message_read": (
        "That message and everything before it read",
        {"message_id": INT},
        {},
        _object({"conversation_id": INT, "seq": INT}),
    ),
    "typing_start": (
        f"Typing; expires after TYPING_TIMEOUT_MS ({settings.TYPING_TIMEOUT_MS} ms by default) unless sent again",
        CONVERSATION,
        {},
        _object(CONVERSATION),
    ),
    "typing_stop": ("Stopped typing", CONVERSATION, {}, _object(CONVERSATION)),
    "update_presence": (
        "Your presence",
        {"presence": {"type": "string", "enum": list(PRESENCE_STATES)}},
        {},
        _object({"presence": {"type": "string", "enum": list(PRESENCE_STATES)}}),
    ),
    "file_upload_start": (
        "Announce an upload: name, size and type are checked before any bytes",
        {**CONVERSATION, "file_name": STR, "file_size": INT},
        {},
        _object({**UPLOAD_ID, "file_name": STR, "file_size": INT, "mime_type": STR}),
    ),
    "file_upload_progress": (
        "Upload progress, relayed to the conversation",
        {**UPLOAD_ID, "progress": {"type": "number", "minimum": 0, "maximum": 100}},
        {},
        _object({**UPLOAD_ID, "progress": {"type": "number"}}),
    ),
    "file_upload_complete": (
        "The upload finished (the file itself goes to POST /api/v1/messages/upload)",
        UPLOAD_ID,
        {},
        _object(UPLOAD_ID),
    ),
    "ping": (
        "Keep the socket and presence alive; send at least every SOCKET_PING_TIMEOUT / 2",
        {},
        {},
        _object({"pong": {"const": True}}),
    ),
}

TYPING = _object({"conversation_id": INT, "user_id": INT})
# Server → client: (summary, data schema)
SERVER = {
    "message_received": ("A new message in any of your conversations; once per socket, in seq order", _ref("Message")),
    "message_edited": ("A message was edited", _ref("Message")),
    "message_deleted": ("A message was deleted (content empty, no attachments)", _ref("Message")),
    "message_delivered": ("Messages up to seq reached a device of user_id (batched per second)", _ref("ReadState")),
    "message_read": ("user_id read up to seq (also your own reads, from your other devices)", _ref("ReadState")),
    "conversation_created": ("You are in a new conversation", _ref("Conversation")),
    "conversation_updated": ("A conversation's title changed", _ref("Conversation")),
    "user_joined_conversation": ("Someone joined one of your conversations (or you joined one)", _ref("Conversation")),
    "user_left_conversation": (
        "Someone left or was removed (also sent to them)",
        _object({"conversation_id": INT, "user_id": INT}),
    ),
    "user_typing_start": ("Someone is typing (sockets that joined the conversation)", TYPING),
    "user_typing_stop": ("Someone stopped typing, or their typing expired", TYPING),
    "user_status_changed": (
        "Presence of someone who shares a conversation with you",
        _object({"user_id": INT, "status": {"type": "string", "enum": list(PRESENCE_STATES)}}, {"last_seen": TIME}),
    ),
    "system_announcement": (
        "An announcement for you",
        _object(
            {"id": INT, "title": STR, "body": STR, "office_id": _null(INT), "author_id": _null(INT), "created_at": TIME}
        ),
    ),
    "notification_received": (
        "A notification for you",
        _object(
            {
                "id": INT,
                "kind": STR,
                "title": STR,
                "body": STR,
                "data": {"type": "object"},
                "read": {"type": "boolean"},
                "created_at": TIME,
            }
        ),
    ),
    "file_upload_progress": (
        "Upload progress in a joined conversation",
        _object(
            {
                "conversation_id": INT,
                "user_id": INT,
                "upload_id": STR,
                "progress": {"type": "number"},
                "state": {"type": "string", "enum": ["started", "uploading", "completed"]},
                "file_name": STR,
            }
        ),
    ),
    "conversation_cleared": (
        "You cleared your history of a conversation (on another device): drop its messages up to cleared_seq",
        _object({"conversation_id": INT, "cleared_seq": INT}),
    ),
    "application_updated": (
        "An application was opened, moved or changed: to its student, its consultant and its office's managers",
        _ref("Application"),
    ),
    "proposal_received": (
        "Your consultant sent you a proposal of courses: to its student only, after it commits",
        _ref("Proposal"),
    ),
    "task_due": ("A task you hold is due now: to its assignee only, once", _ref("Task")),
}

# Sent by the consumer itself, once, before anything else (not through socket.outgoing).
READY_DATA = _object(
    {
        "user": _ref("User"),
        "server_time": {**TIME, "description": "The server's clock when the socket opened"},
        "conversations": {
            "type": "array",
            "description": "Every conversation you take part in: catch up on each with "
            "GET /api/v1/conversations/{id}/messages?after=<your last seq> when last_seq is ahead of yours",
            "items": _object({"id": INT, "last_seq": INT, "unread_count": INT}, title="ReadyConversation"),
        },
    },
    title="ReadyData",
)
CONSUMER = {
    READY: (
        (
            "The first frame of a signed-in socket: who you are, the server's clock, where each of your "
            "conversations stands. Resolve `connected` on it, not on the socket's open"
        ),
        _ref("ReadyData"),
    )
}

CLOSE_CODES = {
    code: f"{CLOSE_REASONS.get(code, SERVICE_RESTART_REASON)!r}: {meaning}"
    for code, meaning in {
        CLOSE_UNAUTHORIZED: "the token is missing, bad or expired. A new socket with a bad token is refused in "
        "the handshake instead (HTTP 401, never opened; browsers see close 1006): refresh the token, "
        "then reconnect. An open socket closes with 4401 when its user is deactivated or changes or "
        f"resets their password ({REVOKED_REASON!r}): sign in again",
        CLOSE_FORBIDDEN_ORIGIN: "the Origin header is not allowed (ALLOWED_WS_ORIGINS); token clients without Origin "
        "are allowed; a console session socket only from the server's own pages. Do not retry",
        CLOSE_RIGHTS_CHANGED: "the user's role or office changed: reconnect now, with the new rights",
        CLOSE_TOO_MANY: "more than SOCKET_MAX_CONNECTIONS_PER_USER sockets for the user, or a flood of frames "
        f"({FLOOD_REASON!r}): back off before reconnecting",
        CLOSE_IDLE: "no frame from the client for SOCKET_PING_TIMEOUT ms: reconnect, and ping every half of it",
        CLOSE_TRY_AGAIN: "Redis or PostgreSQL is unreachable right now: reconnect with backoff, then catch up",
        CLOSE_SERVICE_RESTART: "the server process is stopping (a deploy): reconnect, resend unacknowledged "
        "sends, then catch up",
    }.items()
}

DESCRIPTION = (
    """One socket per client multiplexes every conversation of the user. Authenticate with the
access JWT as `?token=<access>` or an `Authorization: Bearer <access>` header. The first frame of a
signed-in socket is `ready`; a bad token is refused in the handshake (HTTP 401: the socket never
opens).

Frames are JSON. Client → server: `{"event", "data", "id"?}`; a frame with an `id` gets exactly one
answer, `{"event": "ack", "id", "data"}` or `{"event": "error", "id", "data": {"code", "message", "details"}}`.
Server → client: `{"event", "data"}`. Bad JSON, unknown events, missing or bad fields, forbidden actions
and floods get an `error` frame; the socket stays open unless the client keeps flooding. Every frame the
server may send is one of `components.schemas.ServerFrame`; every frame a client may send, `ClientFrame`.

Close codes (each close carries its reason): """
    + "; ".join(f"`{code}` {meaning}" for code, meaning in CLOSE_CODES.items())
    + """.

Nothing is lost: every message carries its conversation's increasing `seq`; after a reconnect, fetch
`GET /api/v1/conversations/{id}/messages?after=<last seq>` (or everything at once: `GET /api/v1/sync`).
Prose reference: docs/websocket.md."""
)


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace(".", "_").split("_"))


def _titled(schema: Schema, title: str) -> Schema:
    """The schema with a `title` on it and on every object and enum inside, named after where it sits,
    so a code generator (Modelina, json-schema-to-typescript) names every model instead of making
    `AnonymousSchema_N`."""
    if "$ref" in schema:
        return schema
    schema = dict(schema)
    if "oneOf" in schema:
        schema["oneOf"] = [
            part if part.get("type") == "null" else _titled(part, title if len(schema["oneOf"]) == 2 else f"{title}{n}")
            for n, part in enumerate(schema["oneOf"])
        ]
    if schema.get("type") == "object" or "enum" in schema or "const" in schema:
        schema.setdefault("title", title)
    if "properties" in schema:
        schema["properties"] = {
            name: _titled(value, f"{schema['title']}{_pascal(name)}") for name, value in schema["properties"].items()
        }
    if isinstance(schema.get("items"), dict):
        schema["items"] = _titled(schema["items"], f"{title}Item")
    return schema


def _frame(event: str, data: Schema, *, with_id: bool, title: str) -> Schema:
    properties = {"event": {"const": event}, "data": data}
    required = ["event", "data"] if data.get("properties") or data.get("$ref") else ["event"]
    if with_id:
        properties["id"] = ID
    return _titled(
        {"type": "object", "required": required, "properties": properties, "additionalProperties": False}, title
    )


def _message(name: str, title: str, summary: str) -> Schema:
    return {"name": name, "title": title, "summary": summary, "payload": _ref(title)}


def document() -> Schema:
    schemas: dict[str, Schema] = {name: _titled(schema, name) for name, schema in SCHEMAS.items()}
    schemas["ErrorData"] = _titled(
        _object({**SCHEMAS["ErrorData"]["properties"], "code": {**registry_schema(), "title": "ErrorCode"}}),
        "ErrorData",
    )
    schemas["ReadyData"] = _titled(READY_DATA, "ReadyData")
    messages: dict[str, Schema] = {}
    operations: dict[str, Schema] = {}
    client_frames, server_frames = [], []
    channel = {"$ref": "#/channels/socket"}
    error_message = {"$ref": "#/channels/socket/messages/error"}
    for event, (summary, required, optional, ack) in CLIENT.items():
        request, answer = f"{_pascal(event)}Request", f"{_pascal(event)}Ack"
        schemas[request] = _frame(event, _object(required, optional), with_id=True, title=request)
        schemas[answer] = _titled(
            {
                "type": "object",
                "required": ["event", "id", "data"],
                "additionalProperties": False,
                "properties": {"event": {"const": "ack"}, "id": ID, "data": ack},
            },
            answer,
        )
        client_frames.append(_ref(request))
        server_frames.append(_ref(answer))
        # `.request`: file_upload_progress is also the name of a server event
        messages[f"{event}.request"] = _message(event, request, summary)
        messages[f"{event}.ack"] = _message("ack", answer, f"The answer to {event} with an id")
        operations[f"receive_{event}"] = {
            "action": "receive",
            "channel": channel,
            "summary": summary,
            "messages": [{"$ref": f"#/channels/socket/messages/{event}.request"}],
            "reply": {
                "channel": channel,
                "messages": [{"$ref": f"#/channels/socket/messages/{event}.ack"}, error_message],
            },
        }
    schemas["ErrorFrame"] = _titled(
        {
            "type": "object",
            "required": ["event", "data"],
            "additionalProperties": False,
            "properties": {"event": {"const": "error"}, "id": ID, "data": _ref("ErrorData")},
        },
        "ErrorFrame",
    )
    server_frames.append(_ref("ErrorFrame"))
    messages["error"] = _message("error", "ErrorFrame", "A refused frame; with the frame's id when it had one")
    operations["send_error"] = {
        "action": "send",
        "channel": channel,
        "summary": messages["error"]["summary"],
        "messages": [error_message],
    }
    for event, (summary, data) in {**CONSUMER, **SERVER}.items():
        name = f"{_pascal(event)}Event"
        schemas[name] = _frame(event, _titled(data, f"{name}Data"), with_id=False, title=name)
        server_frames.append(_ref(name))
        messages[event] = _message(event, name, summary)
        operations[f"send_{event}"] = {
            "action": "send",
            "channel": channel,
            "summary": summary,
            "messages": [{"$ref": f"#/channels/socket/messages/{event}"}],
        }
    schemas["ServerFrame"] = {
        "title": "ServerFrame",
        "description": "Any frame the server sends: an event, an ack or an error",
        "anyOf": server_frames,  # acks of different events can look alike: anyOf, not oneOf
    }
    schemas["ClientFrame"] = {"title": "ClientFrame", "description": "Any frame a client sends", "anyOf": client_frames}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Consultancy CRM real-time socket", "version": "1.1.0", "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "localhost:8000",
                "protocol": "ws",
                "pathname": "/ws/",
                "description": "The development server (use wss:// behind TLS)",
                "security": [
                    {"$ref": "#/components/securitySchemes/token"},
                    {"$ref": "#/components/securitySchemes/bearer"},
                ],
            }
        },
        "channels": {
            "socket": {
                "address": "/ws/",
                "title": "The one socket",
                "description": "Every conversation of the user, multiplexed",
                "messages": messages,
                "x-close-codes": {str(code): meaning for code, meaning in CLOSE_CODES.items()},
                "x-close-reasons": {
                    str(code): reason
                    for code, reason in {**CLOSE_REASONS, CLOSE_SERVICE_RESTART: SERVICE_RESTART_REASON}.items()
                },
                "bindings": {
                    "ws": {
                        "query": {
                            "type": "object",
                            "properties": {
                                "token": {
                                    "type": "string",
                                    "description": "The access JWT (or send an Authorization header)",
                                }
                            },
                        }
                    }
                },
            }
        },
        "operations": operations,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {"type": "httpApiKey", "name": "token", "in": "query", "description": "The access JWT"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }


assert set(CLIENT) == set(CLIENT_EVENTS), "every client event the consumer accepts is described"
assert set(SERVER) == set(SERVER_EVENTS), "every server event the consumer lists is described"
