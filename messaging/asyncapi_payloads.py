"""The payload schemas of the WebSocket protocol's events (`components.schemas` of the AsyncAPI document
that `messaging/asyncapi.py` builds): each matches what `events.py` and the services put in a frame."""

from __future__ import annotations

from typing import Any

from accounts.models import Role
from messaging.models import ConversationType, MessageType, TriageStatus

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


def nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def object_schema(
    required: Schema, optional: Schema | None = None, **extra: Any
) -> Schema:  # extra: title, description
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": False,
        **extra,
    }


def schema_ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS = {
    "User": object_schema(
        {
            "id": INT,
            "email": STR,
            "first_name": STR,
            "last_name": STR,
            "role": {"type": "string", "enum": list(Role.values)},
            "office_id": nullable(INT),
        }
    ),
    "Attachment": object_schema(
        {
            "id": INT,
            "file_name": STR,
            "mime_type": STR,
            "size": INT,
            "width": nullable(INT),
            "height": nullable(INT),
            "url": {"type": "string", "description": "Authorised download path"},
        }
    ),
    "Message": object_schema(
        {
            "id": INT,
            "conversation_id": INT,
            "seq": {"type": "integer", "description": "Increasing per conversation"},
            "sender_id": nullable(INT),
            "sender": nullable(schema_ref("User")),
            "type": {"type": "string", "enum": list(MessageType.values)},
            "content": {"type": "string", "description": "Empty when deleted"},
            "reply_to_id": nullable(INT),
            "attachments": {"type": "array", "items": schema_ref("Attachment")},
            "created_at": TIME,
            "edited_at": nullable(TIME),
            "deleted": {"type": "boolean"},
        },
        description="The same representation as REST's messages",
    ),
    "Conversation": object_schema(
        {
            "id": INT,
            "type": {"type": "string", "enum": list(ConversationType.values)},
            "title": STR,
            "office_id": nullable(INT),
            "lead_id": nullable(INT),
            "participants": {"type": "array", "items": schema_ref("User")},
            "last_message": nullable(schema_ref("Message")),
            "last_seq": INT,
            "unread_count": INT,
            "is_archived": {"type": "boolean"},
            "is_pinned": {"type": "boolean"},
            "muted_until": nullable(TIME),
            "status": {"type": "string", "enum": list(TriageStatus.values)},
            "snoozed_until": nullable(TIME),
            "created_at": TIME,
            "updated_at": TIME,
        },
        description="As REST's conversation; pushed ones carry no per-user state (unread_count 0, flags false, "
        "status open)",
    ),
    # applications.representation.ApplicationSerializer (applications sit above messaging: written out here,
    # and applications/tests/test_events.py checks real frames and the statuses against it).
    "Application": object_schema(
        {
            "id": INT,
            "student_id": INT,
            "student": object_schema({"id": INT, "first_name": STR, "last_name": STR}),
            "course_id": INT,
            "course": object_schema(
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
            "consultant": object_schema({"id": INT, "first_name": STR, "last_name": STR}),
            "office_id": INT,
            "status": {"type": "string", "enum": APPLICATION_STATUSES},
            "next_statuses": {"type": "array", "items": {"type": "string", "enum": APPLICATION_STATUSES}},
            "status_history": {
                "type": "array",
                "items": object_schema(
                    {
                        "id": INT,
                        "from": STR,
                        "to": {"type": "string", "enum": APPLICATION_STATUSES},
                        "by_id": nullable(INT),
                        "by_name": nullable(STR),
                        "at": TIME,
                        "note": STR,
                        "checklist_override": {"type": "boolean"},
                    }
                ),
            },
            "offer": object_schema(
                {
                    "conditions": STR,
                    "deposit_amount": nullable(STR),
                    "deposit_due": nullable(STR),
                    "document_id": nullable(INT),
                }
            ),
            "confirmation": object_schema({"kind": STR, "number": STR, "document_id": nullable(INT)}),
            "visa": object_schema(
                {
                    "applied_on": nullable(STR),
                    "decided_on": nullable(STR),
                    "reference": STR,
                    "document_id": nullable(INT),
                }
            ),
            "created_at": TIME,
            "updated_at": TIME,
        },
        description="As REST's application (GET /api/v1/applications/{id}); never any commission figure",
    ),
    # proposals.representation.ProposalSerializer (written out here, as Application above;
    # proposals/tests/test_events.py checks real frames against it).
    "Proposal": object_schema(
        {
            "id": INT,
            "student_id": INT,
            "student": object_schema({"id": INT, "first_name": STR, "last_name": STR}),
            "consultant_id": INT,
            "consultant": object_schema({"id": INT, "first_name": STR, "last_name": STR}),
            "office_id": INT,
            "status": {"type": "string", "enum": ["draft", "sent", "accepted", "declined", "expired"]},
            "message": STR,
            "expires_at": nullable(TIME),
            "sent_at": nullable(TIME),
            "decided_at": nullable(TIME),
            "decline_reason": STR,
            "items": {
                "type": "array",
                "items": object_schema(
                    {
                        "id": INT,
                        "course_id": INT,
                        "course": {"type": "object", "description": "As an application's course"},
                        "intake": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"},
                        "note": STR,
                        "eligible": {"type": "boolean"},
                        "estimated_cost": object_schema(
                            {
                                "tuition": STR,
                                "living": nullable(STR),
                                "living_currency": nullable(STR),
                                "total": nullable(STR),
                                "currency": STR,
                            }
                        ),
                        "application_id": nullable(INT),
                    }
                ),
            },
            "estimated_cost": {
                "type": "array",
                "items": object_schema({"currency": STR, "lowest": STR, "highest": STR}),
            },
            "created_at": TIME,
            "updated_at": TIME,
        },
        description="As REST's proposal (GET /api/v1/proposals/{id})",
    ),
    # followups.representation.TaskSerializer
    "Task": object_schema(
        {
            "id": INT,
            "title": STR,
            "notes": STR,
            "due_at": TIME,
            "priority": {"type": "string", "enum": ["low", "normal", "high"]},
            "status": {"type": "string", "enum": ["open", "done"]},
            "overdue": {"type": "boolean"},
            "assignee_id": INT,
            "assignee": object_schema({"id": INT, "first_name": STR, "last_name": STR}),
            "lead_id": nullable(INT),
            "student_id": nullable(INT),
            "application_id": nullable(INT),
            "subject": object_schema(
                {"kind": {"type": "string", "enum": ["lead", "student", "application"]}, "id": INT, "name": STR}
            ),
            "office_id": nullable(INT),
            "reminded_at": nullable(TIME),
            "done_at": nullable(TIME),
            "done_by_id": nullable(INT),
            "created_by_id": nullable(INT),
            "created_at": TIME,
            "updated_at": TIME,
        },
        description="As REST's task (GET /api/v1/tasks/{id})",
    ),
    "ReadState": object_schema({"conversation_id": INT, "user_id": INT, "seq": INT}),
    "ErrorData": object_schema({"code": STR, "message": STR, "details": {"type": "object"}}),
}
