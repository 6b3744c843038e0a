"""The AsyncAPI document at /api/ws-schema is valid AsyncAPI 3.0 and says what the consumer does:
every event it accepts or sends is described, and real frames of every kind match their schema."""

import copy
import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from accounts.tests.factories import ConsultantFactory, ManagerFactory, StudentFactory
from applications.services import application_open, application_transition
from catalogue.tests.factories import CourseFactory
from followups.models import Task
from followups.services import task_reminders_send
from messaging import asyncapi, services
from messaging.socket.incoming import CLIENT_EVENTS
from messaging.socket.outgoing import SERVER_EVENTS
from messaging.tests.factories import make_conversation
from messaging.tests.test_consumer import connect
from notifications.services import announcement_create, notification_create
from offices.tests.factories import OfficeFactory
from proposals.services import proposal_create, proposal_send
from study.vocabulary import parse_intake

SPEC_FILE = Path(__file__).resolve().parents[2] / "clients" / "asyncapi" / "asyncapi-3.0.0.schema.json"
SPEC = json.loads(SPEC_FILE.read_text())
DOC = asyncapi.document()


def payload_validator(message_key: str):
    """Validates a frame against one message's payload, `$ref`s resolved inside the document."""
    schema = {**DOC, "$ref": f"#/channels/socket/messages/{message_key}/payload"}
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def test_the_document_is_valid_asyncapi_3():
    validator = jsonschema.Draft7Validator(SPEC)
    assert list(validator.iter_errors(DOC)) == []
    broken = copy.deepcopy(DOC)
    broken["operations"]["receive_ping"]["action"] = "publish"  # AsyncAPI 2's word: not valid in 3.0
    assert list(validator.iter_errors(broken))


def test_every_event_of_the_consumer_is_described():
    operations = DOC["operations"].values()
    received = {
        op["messages"][0]["$ref"].rsplit("/", 1)[1].removesuffix(".request")
        for op in operations
        if op["action"] == "receive"
    }
    sent = {op["messages"][0]["$ref"].rsplit("/", 1)[1] for op in operations if op["action"] == "send"}
    assert received == set(CLIENT_EVENTS)
    assert sent == set(SERVER_EVENTS) | {"error", "ready"}
    for event, serializer in CLIENT_EVENTS.items():  # the fields the consumer's serializer takes, the document names
        data = DOC["components"]["schemas"][f"{asyncapi._pascal(event)}Request"]["properties"]["data"]
        fields = serializer.serializer.fields if serializer is not None else {}
        assert set(data["properties"]) == set(fields), event
        assert set(data["required"]) == {name for name, field in fields.items() if field.required}, event
        reply = DOC["operations"][f"receive_{event}"]["reply"]["messages"]
        assert [m["$ref"].rsplit("/", 1)[1] for m in reply] == [f"{event}.ack", "error"]


def test_the_document_is_served_and_linked(client):
    response = client.get("/api/ws-schema")
    assert response.status_code == 200 and response.json() == json.loads(json.dumps(DOC))
    assert (
        "/api/ws-schema"
        in client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["info"]["description"]
    )


class Recorder:
    """A socket whose every frame in and out is kept, to check against the document."""

    def __init__(self, communicator):
        self.ws, self.sent, self.received = communicator, [], []

    async def send(self, event, data=None, id=None):
        frame = {"event": event, "data": data or {}}
        if id is not None:
            frame["id"] = id
        self.sent.append(frame)
        await self.ws.send_json_to(frame)
        if id is not None:
            return await self.wait(lambda f: f.get("id") == id)

    async def wait(self, match, timeout=3):
        for frame in self.received:
            if match(frame):
                return frame
        while True:
            frame = await self.ws.receive_json_from(timeout=timeout)
            self.received.append(frame)
            if match(frame):
                return frame

    async def event(self, name, timeout=3):
        return await self.wait(lambda f: f["event"] == name, timeout)

    async def drain(self):
        while not await self.ws.receive_nothing(timeout=0.3):  # (a receive that times out stops the consumer)
            self.received.append(await self.ws.receive_json_from())


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_real_frames_of_every_event_match_the_document():
    office = await database_sync_to_async(OfficeFactory)(name="AsyncAPI")
    alice, bob, carol = [await database_sync_to_async(ConsultantFactory)(office=office) for _ in range(3)]
    manager = await database_sync_to_async(ManagerFactory)(office=office)
    chat = await database_sync_to_async(make_conversation)(alice, bob, office=office, title="Team")
    sam = await database_sync_to_async(StudentFactory)(office=office)
    a, b, c = Recorder(await connect(alice)), Recorder(await connect(bob)), Recorder(await connect(sam))
    for socket in (a, b, c):
        socket.received.append({"event": "ready", "data": socket.ws.ready})  # the first frame (connect read it)
    cid = chat.id

    assert (await a.send("ping", id="p"))["event"] == "ack"
    for socket in (a, b):
        await socket.send("join_conversation", {"conversation_id": cid}, id="j")
    sent = await a.send("send_message", {"conversation_id": cid, "content": "hello", "client_id": "c1"}, id="s")
    message_id = sent["data"]["message"]["id"]
    await b.event("message_received")
    await a.send("edit_message", {"message_id": message_id, "content": "hello!"}, id="e")
    await b.event("message_edited")
    await a.event("message_delivered", timeout=5)  # bob's socket reached it; receipts go out once a second
    await b.send("mark_message_read", {"message_id": message_id}, id="r")
    await a.event("message_read")
    await a.send("typing_start", {"conversation_id": cid}, id="t1")
    await b.event("user_typing_start")
    await a.send("typing_stop", {"conversation_id": cid}, id="t2")
    await b.event("user_typing_stop")
    await a.send("update_presence", {"presence": "away"}, id="u")
    await b.event("user_status_changed")
    upload = await a.send(
        "file_upload_start", {"conversation_id": cid, "file_name": "cv.pdf", "file_size": 1000}, id="f1"
    )
    upload_id = upload["data"]["upload_id"]
    await a.send("file_upload_progress", {"upload_id": upload_id, "progress": 40}, id="f2")
    await a.send("file_upload_complete", {"upload_id": upload_id}, id="f3")
    await b.event("file_upload_progress")
    await a.send("delete_message", {"message_id": message_id}, id="d")
    await b.event("message_deleted")
    await a.send("leave_conversation", {"conversation_id": cid}, id="l")
    assert (await a.send("no_such_event", {}, id="x"))["event"] == "error"
    await a.send("send_message", {"conversation_id": cid}, id="bad")  # no content: an error with details

    @database_sync_to_async
    def service_events():
        services.conversation_update(actor=alice, conversation=chat, title="Renamed")
        services.participants_add(actor=alice, conversation=chat, user_ids=[carol.id])
        services.participants_remove(actor=alice, conversation=chat, user_id=carol.id)
        services.conversation_create(actor=bob, type="group", participant_ids=[alice.id], title="New")
        notification_create(recipient=alice, kind="lead_assigned", title="New lead", data={"lead_id": 1})
        announcement_create(actor=manager, title="Office closed Friday", body="Plan ahead")
        services.message_send(sender=bob, conversation=chat, content="after")
        services.conversation_clear_history(user=alice, conversation=chat)
        student = StudentFactory(office=office)
        application = application_open(
            actor=manager,
            student=student,
            course=CourseFactory(intakes=[9]),
            intake=parse_intake("2099-09"),
            consultant=alice,
        )
        application_transition(actor=manager, application=application, data={"to": "withdrawn", "note": "Moved"})
        proposal = proposal_create(
            actor=manager,
            student=sam,
            consultant=alice,
            items=[{"course_id": CourseFactory(intakes=[9]).pk, "intake": "2099-09", "note": ""}],
            expires_at=timezone.now() + timedelta(days=7),
        )
        proposal_send(actor=manager, proposal=proposal)
        Task.objects.create(title="Call Sam", due_at=timezone.now(), assignee=alice, student=sam, office=office)
        task_reminders_send()

    await service_events()
    for name in (
        "conversation_updated",
        "user_joined_conversation",
        "user_left_conversation",
        "conversation_created",
        "notification_received",
        "system_announcement",
        "conversation_cleared",
        "application_updated",
        "task_due",
    ):
        await a.event(name)
    await c.event("proposal_received")
    await c.drain()
    await a.drain()
    await b.drain()

    requests = {f["id"]: f["event"] for socket in (a, b, c) for f in socket.sent if "id" in f}
    checked = set()
    for socket in (a, b, c):
        for frame in socket.sent:
            if frame["event"] in CLIENT_EVENTS:
                assert list(payload_validator(f"{frame['event']}.request").iter_errors(frame)) == [], frame
        for frame in socket.received:
            event = frame["event"]
            key = f"{requests[frame['id']]}.ack" if event == "ack" else event
            errors = [e.message for e in payload_validator(key).iter_errors(frame)]
            assert errors == [], (frame, errors)
            checked.add(key)
    assert set(SERVER_EVENTS) | {"error", "ready"} <= checked, set(SERVER_EVENTS) - checked
    assert {f"{event}.ack" for event in CLIENT_EVENTS} <= checked
    for socket in (a, b, c):
        await socket.ws.disconnect()


def _nodes(node, path="#"):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _nodes(value, f"{path}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _nodes(value, f"{path}/{n}")


def test_every_model_is_named_and_every_frame_is_in_a_union():
    schemas = DOC["components"]["schemas"]
    untitled = [
        path
        for path, node in _nodes(schemas, "#/components/schemas")
        if (node.get("type") == "object" or "enum" in node or "const" in node or "anyOf" in node or "oneOf" in node)
        and "title" not in node
        and not path.endswith(("/properties/event", "/x-close-codes"))
        and not ("oneOf" in node and {"type": "null"} in node["oneOf"])  # nullable X: X is named
    ]
    assert untitled == []
    messages = DOC["channels"]["socket"]["messages"]
    sent = {key for key in messages if not key.endswith(".request")}
    assert {ref["$ref"] for ref in schemas["ServerFrame"]["anyOf"]} == {messages[k]["payload"]["$ref"] for k in sent}
    assert {ref["$ref"] for ref in schemas["ClientFrame"]["anyOf"]} == {
        messages[k]["payload"]["$ref"] for k in messages if k.endswith(".request")
    }
    assert len(schemas["ServerFrame"]["anyOf"]) == len(SERVER_EVENTS) + len(CLIENT_EVENTS) + 2  # + error, ready
