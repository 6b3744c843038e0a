"""One contract per payload: what `messaging.events` builds for REST and the socket is exactly what
OpenAPI says (the serializers' components): the same field names, no more and no fewer, each of its
type, null only where the schema allows it. Real payloads of every kind, through the REST renderer."""

import copy
import json

import jsonschema
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.renderers import JSONRenderer
from core.tests.test_uploads import png_bytes
from messaging import events, search, selectors, services
from messaging.models import AuditAction, Message, MessageType, MonitoringAudit, Participant
from messaging.tests.factories import make_conversation, send

pytestmark = pytest.mark.django_db

# Every payload builder and the OpenAPI component (its serializer) it must match.
CONTRACTS = {
    "user_payload": "UserBrief",  # UserBriefSerializer
    "attachment_payload": "Attachment",  # AttachmentSerializer
    "message_payload": "Message",  # MessageSerializer
    "sent_message_payload": "Message",  # the socket's send (test_send_request: equal to message_payload)
    "conversation_payload": "Conversation",  # ConversationSerializer
    "participant_payload": "Participant",  # ParticipantSerializer
    "search_hit_payload": "SearchHit",  # SearchHitSerializer
    "audit_payload": "Audit",  # AuditSerializer
}


def _strict(node):
    """OpenAPI 3.0 → JSON Schema that refuses what the contract does not name: every object's
    properties are all required and nothing else is allowed; `nullable` becomes a null option."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict(value) for key, value in node.items()}
    if "properties" in node:
        node["required"] = sorted(node["properties"])
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture(scope="module")
def contract(openapi_schema):
    components = _strict(copy.deepcopy(openapi_schema["components"]))

    def check(component: str, payload) -> list[str]:
        wire = json.loads(JSONRenderer().render(payload))  # what a client reads
        validator = jsonschema.Draft7Validator(
            {"components": components, "$ref": f"#/components/schemas/{component}"},
            format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER,
        )
        return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(wire)]

    return check


def test_every_payload_builder_has_a_contract():
    assert {name for name in dir(events) if name.endswith("_payload")} == set(CONTRACTS)


def test_the_checker_refuses_a_field_too_many_too_few_or_of_another_type(contract, consultant):
    payload = events.user_payload(consultant)
    assert contract("UserBrief", payload) == []
    assert contract("UserBrief", {**payload, "nickname": "x"})
    assert contract("UserBrief", {k: v for k, v in payload.items() if k != "office_id"})
    assert contract("UserBrief", {**payload, "id": str(payload["id"])})
    assert contract("UserBrief", {**payload, "email": None})


def test_real_payloads_match_their_serializers(contract, consultant, receptionist, manager, office):
    chat = make_conversation(consultant, receptionist, office=office, title="Visa")
    quiet = make_conversation(receptionist, manager, office=office)  # no last message
    text = send(consultant, chat, "visa appointment on Monday")
    reply = send(receptionist, chat, "ok", reply_to_id=text.id)
    with_file, _ = services.message_send_with_files(
        sender=consultant, conversation=chat, files=[SimpleUploadedFile("a.png", png_bytes())], content="scan"
    )
    deleted = send(consultant, chat, "oops")
    services.message_delete(actor=consultant, message=deleted)
    system = Message.objects.create(conversation=chat, seq=99, sender=None, type=MessageType.SYSTEM, content="joined")
    services.conversation_update(actor=receptionist, conversation=chat, muted_until=timezone.now())
    services.monitoring_audit_record(actor=manager, action=AuditAction.MONITOR_READ, conversation=chat)

    stored = selectors.load_attachments(list(Message.objects.select_related("sender").order_by("id")))
    page, _ = selectors.messages_page(chat, limit=50)  # the history page's rows, not model instances
    me = Participant.objects.get(conversation=chat, user=receptionist)
    payloads = {
        "user_payload": [events.user_payload(consultant), events.user_payload(manager)],
        "attachment_payload": [events.attachment_payload(a) for a in with_file.attachments.all()],
        "message_payload": [events.message_payload(m) for m in [text, reply, with_file, *stored, *page]],
        "sent_message_payload": [
            events.sent_message_payload(
                message_id=m.id,
                conversation_id=m.conversation_id,
                seq=m.seq,
                sender=m.sender,
                type=m.type,
                content=m.content,
                reply_to_id=m.reply_to_id,
                created_at=m.created_at,
            )
            for m in (text, reply)
        ],
        "conversation_payload": [
            events.conversation_payload(c, participants=c.participants.all(), me=membership)
            for c, membership in (
                (selectors.conversation_detail(chat.id), me),
                (selectors.conversation_detail(chat.id), None),
                (selectors.conversation_detail(quiet.id), None),
            )
        ],
        "participant_payload": [events.participant_payload(p) for p in selectors.participants_of(chat)],
        "search_hit_payload": [events.search_hit_payload(m) for m in search.message_search(consultant, q="visa")[0]],
        "audit_payload": [events.audit_payload(a) for a in MonitoringAudit.objects.all()],
    }
    kinds = {
        (m["deleted"], m["sender"] is None, bool(m["attachments"]), m["reply_to_id"] is None)
        for m in payloads["message_payload"]
    }
    assert {
        (True, False, False, True),
        (False, True, False, True),
        (False, False, True, True),
        (False, False, False, False),
    } <= kinds  # deleted, system, with files, a reply
    assert system.id in {m["id"] for m in payloads["message_payload"]}
    for builder, component in CONTRACTS.items():
        assert payloads[builder], builder
        for payload in payloads[builder]:
            assert contract(component, payload) == [], (builder, payload)
