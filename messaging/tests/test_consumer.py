"""The /ws/ socket through Channels' WebsocketCommunicator, against the real Redis channel layer."""

import asyncio
import json
from datetime import datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services import user_deactivate
from accounts.tests.factories import ConsultantFactory, ManagerFactory, SuperAdminFactory
from conftest import access_token_for
from core import realtime
from core.realtime import conversation_message, members_group
from crm_project.asgi import application
from messaging import events, services
from messaging.consumers import ChatConsumer
from messaging.models import Message, MonitoringAudit, Participant
from messaging.socket import deliveries, outgoing, rates, registry
from messaging.socket.hub import hub
from messaging.tests.factories import make_conversation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def connect(user=None, *, token=None, headers=None, origin=None):
    if token is None and user is not None:
        token = await database_sync_to_async(access_token_for)(user)
    path = f"/ws/?token={token}" if token else "/ws/"
    hdrs = list(headers or [])
    if origin:
        hdrs.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, path, headers=hdrs)
    connected, code = await communicator.connect()
    if not connected:  # refused in the handshake (a bad token)
        communicator.__dict__["closed"] = {"type": "websocket.close", "code": code}
        return communicator
    first = await communicator.receive_output(timeout=3)
    if first["type"] == "websocket.close":  # accepted to be told why, then closed: no `ready`
        communicator.__dict__["closed"] = first
    else:
        ready = json.loads(first["text"])
        assert ready["event"] == "ready", ready  # the first frame of a signed-in socket
        communicator.__dict__["ready"] = ready["data"]
    return communicator


async def closed_with(communicator) -> int:
    message = communicator.__dict__.pop("closed", None) or await communicator.receive_output(timeout=3)
    assert message["type"] == "websocket.close"
    return message["code"]


async def request(communicator, event, data=None, id="1"):
    """Send a frame and return its answer; pushes that come first are kept for `next_event` (the
    sender's own copy of a message it sends over the socket comes before the ack)."""
    await communicator.send_json_to({"event": event, "data": data or {}, "id": id})
    while True:
        frame = await communicator.receive_json_from(timeout=3)
        if frame.get("id") == id:
            return frame
        communicator.__dict__.setdefault("pushed", []).append(frame)


async def events_waiting(communicator) -> list[str]:
    """The events of the frames already waiting on this socket."""
    events = []
    while not await communicator.receive_nothing(timeout=0.05):
        events.append((await communicator.receive_json_from())["event"])
    return events


async def events_until(communicator, name, timeout=3) -> list[str]:
    """The events of the frames this socket receives up to the first `name`."""
    events = [frame["event"] for frame in communicator.__dict__.pop("pushed", [])]
    while name not in events:
        events.append((await communicator.receive_json_from(timeout=timeout))["event"])
    return events


async def next_event(communicator, name, timeout=3):
    pushed = communicator.__dict__.setdefault("pushed", [])
    while pushed:
        frame = pushed.pop(0)
        if frame["event"] == name:
            return frame["data"]
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["event"] == name:
            return frame["data"]


@pytest.fixture
def one_second(monkeypatch):
    """The rate window stands still: every frame of the test counts in the same second."""
    window = 1_000_000
    monkeypatch.setattr(rates, "_second", lambda: window)
    return window


class Clock:
    """The consumer's monotonic clock, moved by the test alone, and its heartbeat's pause, which ends
    when the test says (`look`): no real time passes between two looks of the heartbeat."""

    def __init__(self):
        self.now = 1000.0
        self.parked = asyncio.Event()  # a heartbeat is waiting for its next look
        self.waiting = None

    def __call__(self) -> float:
        return self.now

    async def pause(self, seconds: float) -> None:
        self.waiting = asyncio.get_running_loop().create_future()
        self.parked.set()
        await self.waiting

    async def look(self, *, again: bool = True) -> None:
        """The heartbeat looks once at the clock as it reads now; with `again`, returns once the look is
        over and it waits for the next (it did not close the socket)."""
        await asyncio.wait_for(self.parked.wait(), timeout=3)
        self.parked.clear()
        self.waiting.set_result(None)
        if again:
            await asyncio.wait_for(self.parked.wait(), timeout=3)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(ChatConsumer, "clock", staticmethod(fake))
    monkeypatch.setattr(ChatConsumer, "pause", staticmethod(fake.pause))
    return fake


async def hand_out(conversation_id, user_ids, payload):
    """A conversation event as this process's hub hands it to its sockets: at once, in this order
    (not through Redis, where it would race the test's next frame)."""
    await hub()._hand_out(
        conversation_message(
            conversation_id, user_ids, "message_received", payload, seq=payload["seq"], sender_id=payload["sender_id"]
        )
    )


async def gap_fills_done():
    for task in [task for task in asyncio.all_tasks() if task.get_coro().__name__ == "_fill_gap"]:
        await task


async def nothing_more(communicator):
    """Nothing is waiting for the client: the next frame is the answer to a ping sent now."""
    await communicator.send_json_to({"event": "ping", "id": "last"})
    return (await communicator.receive_json_from())["id"] == "last"


@pytest.fixture
def gap_gate(monkeypatch):
    """Gaps are read back when the test opens the gate, not after SOCKET_GAP_WAIT_MS."""
    gate = asyncio.Event()

    async def wait(consumer):
        await gate.wait()

    monkeypatch.setattr(ChatConsumer, "gap_wait", wait)
    return gate


async def test_a_send_to_an_id_beyond_the_database_range_is_not_found(people):
    client = await connect(people[0])
    refused = await request(client, "send_message", {"conversation_id": 10**30, "content": "x"})
    assert refused["event"] == "error" and refused["data"]["code"] == "not_found"
    await client.disconnect()


async def test_the_staff_console_session_opens_a_socket_without_a_token(people):
    def signed_in_cookie():
        client = Client()
        client.force_login(people[0])
        return client.cookies["sessionid"].value

    cookie = await database_sync_to_async(signed_in_cookie)()
    console = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[
            (b"cookie", f"sessionid={cookie}".encode()),
            (b"host", b"testserver"),
            (b"origin", b"http://testserver"),
        ],
    )
    connected, _ = await console.connect()
    assert connected and (await request(console, "ping"))["event"] == "ack"
    await console.disconnect()
    stranger = WebsocketCommunicator(application, "/ws/", headers=[(b"cookie", b"sessionid=forged")])
    assert await stranger.connect() == (False, 4401)  # refused in the handshake


def console_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@override_settings(ALLOWED_WS_ORIGINS=["https://app.example.com"], FRONTEND_URL="https://app.example.com")
@pytest.mark.parametrize(
    "origin, opens",
    [
        (b"http://testserver", True),  # the console's own pages
        (b"https://app.example.com", False),  # the front end: allowed for tokens, never for a console session
        (b"https://evil.example.com", False),
        (b"https://testserver", False),  # not the scheme the socket came in on
        (None, False),  # browsers always send one; a session socket must name the server's own origin
    ],
)
async def test_a_console_session_socket_comes_from_the_servers_own_origin_only(people, origin, opens):
    manager = await database_sync_to_async(ManagerFactory)(office=people[0].office)
    chat = await database_sync_to_async(make_conversation)(people[0], people[1], office=people[0].office)
    cookie = await database_sync_to_async(console_cookie)(manager)
    headers = [(b"cookie", f"sessionid={cookie}".encode()), (b"host", b"testserver")]
    console = WebsocketCommunicator(application, "/ws/", headers=headers + ([(b"origin", origin)] if origin else []))
    await console.connect()
    if not opens:
        assert await closed_with(console) == 4403
        return
    joined = await request(console, "join_conversation", {"conversation_id": chat.id})
    assert joined["data"] == {"conversation_id": chat.id, "read_only": True}
    await console.disconnect()


@override_settings(ALLOWED_WS_ORIGINS=["https://app.example.com"])
async def test_a_token_socket_keeps_the_front_ends_origin_even_with_a_console_cookie(people):
    """A token names who is connecting; the console cookie riding along changes nothing."""
    cookie = await database_sync_to_async(console_cookie)(people[1])
    socket = await connect(
        people[0], origin="https://app.example.com", headers=[(b"cookie", f"sessionid={cookie}".encode())]
    )
    assert (await request(socket, "ping"))["event"] == "ack"
    await socket.disconnect()


async def test_bad_token_closes_with_4401():
    for token in ("garbage", ""):
        communicator = await connect(token=token or None)
        assert await closed_with(communicator) == 4401


async def test_a_bad_token_is_refused_in_the_handshake_never_opened():
    communicator = WebsocketCommunicator(application, "/ws/?token=garbage")
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4401)  # no websocket.accept: a client's onopen never fires


async def test_ready_is_the_first_frame_with_each_conversations_position(people, chat):
    def state():
        services.message_send(sender=people[1], conversation=chat, content="one")
        services.message_send(sender=people[1], conversation=chat, content="two")
        services.message_send(sender=people[0], conversation=chat, content="mine")
        return make_conversation(people[0], people[2])

    other = await database_sync_to_async(state)()
    socket = await connect(people[0])
    ready = socket.ready
    assert ready["user"] == {
        "id": people[0].id,
        "email": people[0].email,
        "first_name": people[0].first_name,
        "last_name": people[0].last_name,
        "role": people[0].role,
        "office_id": people[0].office_id,
    }
    assert abs(timezone.now() - datetime.fromisoformat(ready["server_time"])) < timedelta(seconds=5)
    # unread as REST counts it: messages past the read pointer (a send moves the sender's pointer)
    assert sorted(ready["conversations"], key=lambda c: c["id"]) == [
        {"id": chat.id, "last_seq": 3, "unread_count": 0},
        {"id": other.id, "last_seq": 0, "unread_count": 0},
    ]
    assert (await request(socket, "ping"))["event"] == "ack"
    await socket.disconnect()


@override_settings(ALLOWED_WS_ORIGINS=["https://app.example.com"])
async def test_refusals_after_the_handshake_say_why(people):
    socket = WebsocketCommunicator(
        application,
        f"/ws/?token={await database_sync_to_async(access_token_for)(people[0])}",
        headers=[(b"origin", b"https://evil.example.com")],
    )
    assert (await socket.connect())[0]
    closed = await socket.receive_output(timeout=3)  # no ready: the close comes first
    assert closed == {"type": "websocket.close", "code": 4403, "reason": "origin not allowed"}


async def test_expired_token_closes_with_4401(people):
    token = AccessToken.for_user(people[0])
    token.set_exp(lifetime=-timedelta(seconds=1))
    assert await closed_with(await connect(token=str(token))) == 4401


async def test_bearer_header_works(people):
    token = await database_sync_to_async(access_token_for)(people[0])
    communicator = await connect(headers=[(b"authorization", f"Bearer {token}".encode())])
    assert (await request(communicator, "ping"))["event"] == "ack"
    await communicator.disconnect()


@override_settings(ALLOWED_WS_ORIGINS=["https://app.example.com"])
async def test_foreign_origin_closes_with_4403(people):
    assert await closed_with(await connect(people[0], origin="https://evil.example.com")) == 4403
    good = await connect(people[0], origin="https://app.example.com")
    assert (await request(good, "ping"))["event"] == "ack"
    await good.disconnect()


@override_settings(ALLOWED_WS_ORIGINS=["https://app.example.com"])
@pytest.mark.parametrize(
    "origin, allowed",
    [
        ("https://app.example.com", True),
        ("https://APP.example.com:443", True),  # the same origin, spelled out
        ("http://app.example.com", False),  # an origin is scheme + host + port
        ("https://app.example.com:8443", False),
        ("http://crm.example.com", True),  # the server's own page, on the scheme the socket came in on
        ("https://crm.example.com", False),
        ("http://crm.example.com:8080", False),
        ("null", False),
        ("https://", False),
    ],
)
async def test_origins_compare_scheme_host_and_port(people, origin, allowed):
    communicator = await connect(people[0], origin=origin, headers=[(b"host", b"crm.example.com")])
    if allowed:
        assert (await request(communicator, "ping"))["event"] == "ack"
        await communicator.disconnect()
    else:
        assert await closed_with(communicator) == 4403


@override_settings(SOCKET_MAX_CONNECTIONS_PER_USER=2)
async def test_connection_cap_closes_with_4429(people):
    first, second = await connect(people[0]), await connect(people[0])
    assert await closed_with(await connect(people[0])) == 4429
    await first.disconnect()
    third = await connect(people[0])  # a slot freed up
    assert (await request(third, "ping"))["event"] == "ack"
    await second.disconnect()
    await third.disconnect()


async def test_protocol_errors_keep_the_socket_open(people):
    communicator = await connect(people[0])
    await communicator.send_to(text_data="{not json")
    assert (await communicator.receive_json_from())["data"]["code"] == "bad_json"
    await communicator.send_json_to([1, 2])
    assert (await communicator.receive_json_from())["data"]["code"] == "bad_frame"
    assert (await request(communicator, "fly_to_moon"))["data"]["code"] == "unknown_event"
    missing = await request(communicator, "send_message", {})
    assert missing["event"] == "error" and missing["data"]["code"] == "missing_fields"
    assert (await request(communicator, "join_conversation", {"conversation_id": "abc"}))["data"][
        "code"
    ] == "invalid_field"
    await communicator.send_to(text_data="x" * 70_000)
    assert (await communicator.receive_json_from())["data"]["code"] == "frame_too_large"
    assert (await request(communicator, "ping"))["event"] == "ack"  # still open
    await communicator.disconnect()


@override_settings(SOCKET_MAX_CONNECTIONS_PER_USER=2)
async def test_a_deeply_nested_frame_is_bad_json_and_the_socket_stays_open(people, chat):
    """`[` * 3000: the JSON parser's recursion limit, answered like any bad JSON. Six in a row on one
    socket, then a cap of two sockets still lets a second one open: no slot was lost."""
    socket = await connect(people[0])
    for n in range(6):
        await socket.send_to(text_data="[" * 3000 + "]" * 3000)
        assert (await socket.receive_json_from(timeout=3))["data"]["code"] == "bad_json", n
    nested = '{"event": "send_message", "id": "n", "data": {"conversation_id": %d, "content": %s}}'
    await socket.send_to(text_data=nested % (chat.id, "[" * 900 + "]" * 900))
    refused = await socket.receive_json_from(timeout=3)
    assert refused["id"] == "n" and refused["event"] == "error"
    assert (await request(socket, "ping"))["event"] == "ack"
    second = await connect(people[0])
    assert (await request(second, "ping"))["event"] == "ack"
    await second.disconnect()
    await socket.disconnect()


@override_settings(SOCKET_MAX_CONNECTIONS_PER_USER=1)
async def test_a_socket_that_dies_releases_its_connection_slot_and_its_conversations(people, chat, monkeypatch):
    """Whatever kills a socket (here a handler raising what nothing expected), its clean-up runs: the
    user's next socket is not refused 4429 for the minutes the registry entry would otherwise live,
    and the process's hub no longer hands the dead socket anything."""

    async def crash(self, text_data=None, bytes_data=None, **kwargs):
        raise RecursionError("what nothing expected")

    socket = await connect(people[0])
    assert (await request(socket, "ping"))["event"] == "ack"
    monkeypatch.setattr(ChatConsumer, "receive", crash)
    await socket.send_to(text_data="{}")
    with pytest.raises(RecursionError):
        await asyncio.wait_for(socket.future, timeout=3)  # the application's task ends with the error
    monkeypatch.undo()
    assert not any(s.user.pk == people[0].pk for s in hub().sockets.get(chat.id, ()))
    assert await registry.live_socket_count(people[0].pk) == 0
    again = await connect(people[0])
    assert (await request(again, "ping"))["event"] == "ack"
    await again.disconnect()


async def test_send_message_acks_and_every_participant_receives_it_once(people, chat):
    sockets = [await connect(person) for person in people]
    ack = await request(sockets[0], "send_message", {"conversation_id": chat.id, "content": "hello", "client_id": "x1"})
    assert ack["event"] == "ack" and ack["data"]["message"]["seq"] == 1
    for socket in sockets:  # the sender's other devices too
        received = await next_event(socket, "message_received")
        assert received["content"] == "hello" and received["seq"] == 1
    again = await request(
        sockets[0], "send_message", {"conversation_id": chat.id, "content": "hello", "client_id": "x1"}, id="2"
    )
    assert again["data"]["message"]["id"] == ack["data"]["message"]["id"]
    assert await database_sync_to_async(Message.objects.count)() == 1
    for socket in sockets:
        await socket.disconnect()


async def test_outsider_cannot_join_or_send(people, chat):
    outsider = await database_sync_to_async(ConsultantFactory)()
    socket = await connect(outsider)
    assert (await request(socket, "join_conversation", {"conversation_id": chat.id}))["data"]["code"] == "not_found"
    assert (await request(socket, "send_message", {"conversation_id": chat.id, "content": "x"}, id="2"))["data"][
        "code"
    ] == "not_found"
    assert (await request(socket, "typing_start", {"conversation_id": chat.id}, id="3"))["data"]["code"] == "not_found"
    await socket.disconnect()


async def test_messages_arrive_for_conversations_not_joined(people, chat):
    listener = await connect(people[1])
    await database_sync_to_async(services.message_send)(sender=people[0], conversation=chat, content="inbox stays live")
    assert (await next_event(listener, "message_received"))["content"] == "inbox stays live"
    await listener.disconnect()


async def test_typing_relays_to_joined_sockets_and_expires(people, chat, settings):
    settings.TYPING_TIMEOUT_MS = 300
    typer, watcher = await connect(people[0]), await connect(people[1])
    await request(watcher, "join_conversation", {"conversation_id": chat.id})
    await request(typer, "typing_start", {"conversation_id": chat.id})
    assert await next_event(watcher, "user_typing_start") == {"conversation_id": chat.id, "user_id": people[0].id}
    # no typing_stop: it expires on its own
    assert await next_event(watcher, "user_typing_stop") == {"conversation_id": chat.id, "user_id": people[0].id}
    await typer.disconnect()
    await watcher.disconnect()


async def test_edit_delete_and_read_over_the_socket(people, chat):
    author, reader = await connect(people[0]), await connect(people[1])
    sent = (await request(author, "send_message", {"conversation_id": chat.id, "content": "frist"}))["data"]["message"]
    edited = await request(author, "edit_message", {"message_id": sent["id"], "content": "first"}, id="2")
    assert edited["data"]["message"]["content"] == "first"
    assert (await next_event(reader, "message_edited"))["content"] == "first"
    forbidden = await request(reader, "edit_message", {"message_id": sent["id"], "content": "mine"}, id="3")
    assert forbidden["data"]["code"] == "not_sender"
    read = await request(reader, "mark_message_read", {"message_id": sent["id"]}, id="4")
    assert read["data"] == {"conversation_id": chat.id, "seq": 1}
    assert (await next_event(author, "message_read"))["user_id"] == people[1].id
    await request(author, "delete_message", {"message_id": sent["id"]}, id="5")
    deleted = await next_event(reader, "message_deleted")
    assert deleted["deleted"] is True and deleted["content"] == ""
    await author.disconnect()
    await reader.disconnect()


async def test_delivery_receipts_are_batched(people, chat, settings):
    settings.SOCKET_DELIVERY_BATCH_MS = 60_000  # the window ends when the test says (deliveries.flush)
    author, reader = await connect(people[0]), await connect(people[1])
    for n in range(5):
        await request(author, "send_message", {"conversation_id": chat.id, "content": f"burst {n}"}, id=str(n))
    for _ in range(5):
        await next_event(reader, "message_received")
    membership = await database_sync_to_async(Participant.objects.get)(conversation=chat, user=people[1])
    assert membership.last_delivered_seq == 0  # noted, not written yet
    await deliveries.flush()
    delivered = await next_event(author, "message_delivered")
    assert delivered["user_id"] == people[1].id and delivered["seq"] == 5  # one receipt for the burst
    membership = await database_sync_to_async(Participant.objects.get)(conversation=chat, user=people[1])
    assert membership.last_delivered_seq == 5
    await author.disconnect()
    await reader.disconnect()


async def test_presence_across_sockets(people, chat):
    watcher = await connect(people[1])
    first = await connect(people[0])
    assert await next_event(watcher, "user_status_changed") == {"user_id": people[0].id, "status": "online"}
    second = await connect(people[0])
    await request(first, "update_presence", {"presence": "busy"})
    assert (await next_event(watcher, "user_status_changed"))["status"] == "busy"
    assert (await request(first, "update_presence", {"presence": "asleep"}, id="2"))["data"]["code"] == "invalid_field"
    await first.disconnect()  # one tab closes: still online
    await second.disconnect()
    offline = await next_event(watcher, "user_status_changed")
    assert offline["status"] == "offline" and offline["user_id"] == people[0].id
    await watcher.disconnect()


async def test_a_contact_in_several_shared_conversations_hears_a_status_change_once(people, chat):
    await database_sync_to_async(make_conversation)(people[0], people[1])  # a second shared conversation
    watcher = await connect(people[1])
    mover = await connect(people[0])
    assert await next_event(watcher, "user_status_changed") == {"user_id": people[0].id, "status": "online"}
    assert await watcher.receive_nothing(timeout=0.3)
    await mover.disconnect()
    await watcher.disconnect()


async def test_removed_participant_stops_receiving_at_once(people, chat):
    removed = await connect(people[2])
    await request(removed, "join_conversation", {"conversation_id": chat.id})
    await database_sync_to_async(services.participants_remove)(actor=people[0], conversation=chat, user_id=people[2].id)
    assert (await next_event(removed, "user_left_conversation"))["user_id"] == people[2].id
    await database_sync_to_async(services.message_send)(sender=people[0], conversation=chat, content="not for you")
    assert await removed.receive_nothing(timeout=0.5)
    await removed.disconnect()


async def test_an_event_is_dropped_by_a_socket_whose_user_it_does_not_name(people, chat):
    """Each conversation event names its recipients as of the send (read under the conversation's
    lock), so a socket that has not yet heard of its user's removal still drops it."""
    insider = await connect(people[1])
    outsider = await connect(people[2])  # second: it hears no presence of the first
    payload = {"id": 1, "conversation_id": chat.id, "seq": 1, "sender_id": people[0].id, "content": "x"}
    event = conversation_message(
        chat.id, [people[0].id, people[1].id], "message_received", payload, seq=1, sender_id=people[0].id
    )
    await sync_to_async(realtime._publish)([(members_group(chat.id), event)])
    assert (await next_event(insider, "message_received"))["content"] == "x"
    assert await outsider.receive_nothing(timeout=0.3)
    await outsider.disconnect()
    await insider.disconnect()


async def test_deactivation_closes_the_users_sockets(people):
    admin = await database_sync_to_async(SuperAdminFactory)()
    socket = await connect(people[0])
    await database_sync_to_async(user_deactivate)(actor=admin, user=people[0])
    message = await socket.receive_output(timeout=3)
    assert message == {
        "type": "websocket.close",
        "code": 4401,
        "reason": "signed out: password changed or account deactivated",
    }


async def test_upload_progress_flow(people, chat):
    uploader, watcher = await connect(people[0]), await connect(people[1])
    await request(watcher, "join_conversation", {"conversation_id": chat.id})
    refused = await request(
        uploader, "file_upload_start", {"conversation_id": chat.id, "file_name": "x.exe", "file_size": 10}
    )
    assert refused["data"]["code"] == "unsupported_file_type"
    too_big = await request(
        uploader, "file_upload_start", {"conversation_id": chat.id, "file_name": "x.pdf", "file_size": 10**12}, id="2"
    )
    assert too_big["data"]["code"] == "file_too_large"
    started = await request(
        uploader, "file_upload_start", {"conversation_id": chat.id, "file_name": "../cv.pdf", "file_size": 1000}, id="3"
    )
    upload_id = started["data"]["upload_id"]
    assert started["data"]["file_name"] == "cv.pdf"
    assert (await next_event(watcher, "file_upload_progress"))["state"] == "started"
    await request(uploader, "file_upload_progress", {"upload_id": upload_id, "progress": 50}, id="4")
    assert (await next_event(watcher, "file_upload_progress"))["progress"] == 50
    bad = await request(uploader, "file_upload_progress", {"upload_id": upload_id, "progress": 500}, id="5")
    assert bad["data"]["code"] == "invalid_field"
    await request(uploader, "file_upload_complete", {"upload_id": upload_id, "url": "http://evil/x.exe"}, id="6")
    assert (await next_event(watcher, "file_upload_progress"))["state"] == "completed"
    assert await database_sync_to_async(Message.objects.count)() == 0  # never a message from a URL
    stranger = await request(watcher, "file_upload_progress", {"upload_id": upload_id, "progress": 5}, id="7")
    assert stranger["data"]["code"] == "not_found"
    await uploader.disconnect()
    await watcher.disconnect()


@override_settings(SOCKET_RATE_LIMIT=5)
async def test_flood_gets_rate_limited_then_closed(people, one_second, clock):
    flooder, bystander = await connect(people[0]), await connect(people[1])
    for n in range(30):
        await flooder.send_json_to({"event": "ping", "data": {}, "id": str(n)})
    codes, closed = [], False
    while True:
        output = await flooder.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            closed = output["code"] == 4429
            break
        frame = json.loads(output["text"])
        codes.append(frame["event"] if frame["event"] == "ack" else frame["data"]["code"])
    # 5 a second; then each refused frame is a strike, and the sixth closes it (no time passes to fade them)
    assert closed and codes == ["ack"] * 5 + ["rate_limited"] * 5
    assert (await request(bystander, "ping"))["event"] == "ack"  # another user's frames are not counted
    await bystander.disconnect()


@override_settings(SOCKET_RATE_LIMIT=5)
async def test_a_flood_of_junk_is_rate_limited_and_closed_like_any_other(people, one_second, clock):
    """Frames that are not even JSON, or too large, count against the limit too: no reply to each."""
    flooder = await connect(people[0])
    for n in range(200):
        await flooder.send_to(text_data="not json" if n % 2 else "x" * 70_000)
    replies = []
    while True:
        output = await flooder.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            break
        replies.append(json.loads(output["text"])["data"]["code"])
    assert output["code"] == 4429
    assert replies[:5] == ["frame_too_large", "bad_json"] * 2 + ["frame_too_large"]
    assert replies[5:] == ["rate_limited"] * 5  # closed at the sixth strike


async def test_the_frame_limit_counts_bytes_not_characters(people):
    client = await connect(people[0])
    emoji = "\N{GRINNING FACE}" * 20_000  # 20,000 characters, 80,000 bytes: over 64 KiB
    await client.send_to(text_data=json.dumps({"event": "ping", "data": {"pad": emoji}}, ensure_ascii=False))
    assert (await client.receive_json_from())["data"]["code"] == "frame_too_large"
    await client.disconnect()


async def test_a_client_id_must_be_text(people, chat):
    client = await connect(people[0])
    refused = await request(
        client, "send_message", {"conversation_id": chat.id, "content": "x", "client_id": {"nested": "object"}}
    )
    assert refused["event"] == "error" and refused["data"]["details"] == {"field": "client_id"}
    assert await database_sync_to_async(Message.objects.count)() == 0
    await client.disconnect()


@override_settings(SOCKET_RATE_LIMIT=5)
async def test_the_rate_limit_counts_frames_seen_by_other_processes(people, one_second):
    """Another process already let 4 of this user's frames through this second (its count is in
    Redis): once the counts are exchanged, this process allows only what is left."""
    client = await connect(people[0])
    await registry.redis_client().set(registry.key("rate", people[0].id, one_second), 4, ex=60)
    assert (await request(client, "ping", id="a"))["event"] == "ack"  # 1 here, not yet exchanged
    counts = rates._rates()
    # the exchange with Redis (every RATE_SYNC_SECONDS) sets no event to wait on: look every half period
    while counts.elsewhere.get(people[0].id) is None:  # noqa: ASYNC110
        await asyncio.sleep(rates.RATE_SYNC_SECONDS / 2)
    assert counts.elsewhere[people[0].id] == 4
    assert int(await registry.redis_client().get(registry.key("rate", people[0].id, one_second))) == 5
    refused = await request(client, "ping", id="b")  # 2 here + 4 elsewhere > 5
    assert refused["data"]["code"] == "rate_limited"
    await client.disconnect()


async def test_monitor_joins_read_only_and_is_audited(people, chat):
    manager = await database_sync_to_async(ManagerFactory)(office=people[0].office)
    socket = await connect(manager)
    joined = await request(socket, "join_conversation", {"conversation_id": chat.id})
    assert joined["data"] == {"conversation_id": chat.id, "read_only": True}
    refused = await request(socket, "send_message", {"conversation_id": chat.id, "content": "x"}, id="2")
    assert refused["data"]["code"] == "not_found"
    assert await database_sync_to_async(MonitoringAudit.objects.filter(actor=manager).count)() == 1
    # the monitor sees new messages live, once each
    await database_sync_to_async(services.message_send)(sender=people[0], conversation=chat, content="watched")
    assert (await next_event(socket, "message_received"))["content"] == "watched"
    assert await socket.receive_nothing(timeout=0.3)
    await request(socket, "leave_conversation", {"conversation_id": chat.id}, id="3")
    await database_sync_to_async(services.message_send)(sender=people[0], conversation=chat, content="after leaving")
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_a_repeated_message_event_is_not_pushed_twice(people, chat):
    """The channel layer (or the hub's read-back) may hand out an event again: the socket drops it."""
    listener = await connect(people[1])
    for content in ("one", "two", "three"):
        await database_sync_to_async(services.message_send)(sender=people[2], conversation=chat, content=content)
    assert [(await next_event(listener, "message_received"))["seq"] for _ in range(3)] == [1, 2, 3]
    payload = await database_sync_to_async(
        lambda: events.message_payload(Message.objects.select_related("sender").get(conversation=chat, seq=3))
    )()
    await hand_out(chat.id, [p.id for p in people], payload)
    assert await nothing_more(listener)
    await listener.disconnect()


async def test_a_gap_is_filled_from_the_database_in_order(people, chat, gap_gate):
    listener = await connect(people[1])
    await database_sync_to_async(services.message_send)(sender=people[0], conversation=chat, content="one")
    assert (await next_event(listener, "message_received"))["seq"] == 1

    def store_two_silently():
        rows = [
            Message.objects.create(conversation=chat, seq=seq, sender=people[0], content=f"m{seq}") for seq in (2, 3)
        ]
        chat.__class__.objects.filter(pk=chat.pk).update(last_seq=3, last_activity_at=timezone.now())
        return events.message_payload(Message.objects.select_related("sender").get(pk=rows[1].pk))

    third = await database_sync_to_async(store_two_silently)()
    # seq 3 overtakes seq 2, whose event is lost: the socket holds 3, reads 2 from the database, then pushes both
    await hand_out(chat.id, [p.id for p in people], third)
    assert await nothing_more(listener)  # held
    gap_gate.set()
    await gap_fills_done()
    seen = [(await next_event(listener, "message_received"))["seq"] for _ in range(2)]
    assert seen == [2, 3] and await nothing_more(listener)
    await listener.disconnect()


async def test_the_sockets_of_a_process_waiting_for_one_gap_read_it_once(people, chat, gap_gate, monkeypatch):
    """With several processes, an event overtakes another whenever one process is behind, and every
    socket of the conversation sees the same gap: one read for all of this process's sockets (a read
    per socket made a behind process slower still: 40% of its time at 900 sends/s on two workers)."""
    sockets = [await connect(people[1]), await connect(people[1]), await connect(people[2])]
    await database_sync_to_async(services.message_send)(sender=people[0], conversation=chat, content="one")
    for socket in sockets:
        assert (await next_event(socket, "message_received"))["seq"] == 1
    reads = []
    read_back = outgoing._read_back

    async def counted(*gap):
        reads.append(gap)
        return await read_back(*gap)

    monkeypatch.setattr(outgoing, "_read_back", counted)

    def store_two_silently():
        rows = [
            Message.objects.create(conversation=chat, seq=seq, sender=people[0], content=f"m{seq}") for seq in (2, 3)
        ]
        chat.__class__.objects.filter(pk=chat.pk).update(last_seq=3, last_activity_at=timezone.now())
        return events.message_payload(Message.objects.select_related("sender").get(pk=rows[1].pk))

    await hand_out(chat.id, [p.id for p in people], await database_sync_to_async(store_two_silently)())
    gap_gate.set()
    await gap_fills_done()
    assert reads == [(chat.id, 1, 3)]  # one read (seq 2 and the held 3), for the three sockets
    for socket in sockets:
        assert [(await next_event(socket, "message_received"))["seq"] for _ in range(2)] == [2, 3]
        await socket.send_json_to({"event": "ping", "id": "last"})
        later = []  # what came before the ping's answer (receipts and presence may)
        while (frame := await socket.receive_json_from()).get("id") != "last":
            later.append(frame["event"])
        assert "message_received" not in later  # nothing pushed twice
        await socket.disconnect()


async def test_a_gap_is_not_filled_for_someone_removed_meanwhile(people, chat, gap_gate):
    listener = await connect(people[1])
    for content in ("one", "two"):
        await database_sync_to_async(services.message_send)(sender=people[0], conversation=chat, content=content)
    assert [(await next_event(listener, "message_received"))["seq"] for _ in range(2)] == [1, 2]
    later = {"id": 99, "conversation_id": chat.id, "seq": 4, "sender_id": people[0].id, "content": "four"}
    await hand_out(chat.id, [p.id for p in people], later)  # held: 3 is missing
    await database_sync_to_async(services.participants_remove)(actor=people[0], conversation=chat, user_id=people[1].id)
    await database_sync_to_async(services.message_send)(sender=people[0], conversation=chat, content="three")
    assert (await next_event(listener, "user_left_conversation"))["user_id"] == people[1].id
    gap_gate.set()  # the read-back comes after the removal: seq 3 is in the database, but not theirs
    await gap_fills_done()
    assert await nothing_more(listener)
    await listener.disconnect()


async def test_a_silent_client_is_closed_and_forgotten(people, settings, clock):
    settings.SOCKET_PING_TIMEOUT = 300  # the heartbeat looks when the test says, at the test's clock
    silent = await connect(people[0])
    assert await registry.live_socket_count(people[0].id) == 1
    clock.now += 0.3
    await clock.look()  # 0.3 s without a frame: not over the limit yet
    clock.now += 0.001
    await clock.look(again=False)
    message = await silent.receive_output(timeout=3)
    assert message == {
        "type": "websocket.close",
        "code": 4408,
        "reason": "no frame within SOCKET_PING_TIMEOUT: send ping",
    }
    await silent.wait()
    assert await registry.live_socket_count(people[0].id) == 0


async def test_pings_keep_a_quiet_client_open(people, settings, clock):
    settings.SOCKET_PING_TIMEOUT = 300  # the heartbeat looks when the test says, at the test's clock
    client = await connect(people[0])
    for n in range(4):  # a second in all, never 0.3 s without a frame
        clock.now += 0.25
        await clock.look()  # the heartbeat looks 0.25 s after the last frame, and waits for its next look
        assert (await request(client, "ping", id=str(n)))["event"] == "ack"
    clock.now += 0.3
    await clock.look()  # 0.3 s after the last ping: at the limit, not over it
    assert await nothing_more(client)  # still open: the next frame is the answer to a ping
    await client.disconnect()


async def test_a_socket_send_reaches_each_socket_of_this_process_once(people, chat):
    """Sent over a socket, a message goes to this process's sockets directly and through Redis to
    the others; no copy comes back here through Redis (and one that did would be dropped)."""
    sender, listener = await connect(people[0]), await connect(people[1])
    ack = await request(sender, "send_message", {"conversation_id": chat.id, "content": "once", "client_id": "o-1"})
    received = await next_event(listener, "message_received")
    assert received["id"] == ack["data"]["message"]["id"] and received["content"] == "once"
    # A marker published after the send, on this loop's one publishing connection, to every follower
    # (this hub too): it reaches the hub through Redis after any copy would, so once the listener has
    # it, no second message_received is coming.
    marker = conversation_message(chat.id, [people[1].id], "marker", {}, sender_id=people[0].id)
    realtime._publisher().add(members_group(chat.id), get_channel_layer().serialize(marker), "")
    assert "message_received" not in await events_until(listener, "marker")  # it had its one copy
    before_ack = [frame["event"] for frame in sender.__dict__.get("pushed", [])]
    assert [*before_ack, *await events_waiting(sender)].count("message_received") == 1
    for socket in (sender, listener):
        await socket.disconnect()


async def test_a_socket_send_and_a_rest_send_are_stored_alike(people, chat):
    """The socket's send (`amessage_send`, on the event loop) and REST's (`message_send`, on a
    thread) run the same checks and the same database function, and push the same payload."""
    listener = await connect(people[1])
    sender = await connect(people[0])
    ack = await request(
        sender, "send_message", {"conversation_id": chat.id, "content": "  by socket ", "client_id": "s"}
    )
    by_socket = await next_event(listener, "message_received")
    rest, _ = await database_sync_to_async(services.message_send)(
        sender=people[0], conversation=chat, content="  by socket ", client_id="r"
    )
    by_rest = await next_event(listener, "message_received")
    assert ack["data"]["message"] == by_socket
    assert by_socket.keys() == by_rest.keys()
    differs = {key for key in by_socket if by_socket[key] != by_rest[key]}
    assert differs == {"id", "seq", "created_at"} and by_socket["content"] == "by socket"
    for bad, code in [
        ({"content": "x", "reply_to_id": rest.id + 1000}, "invalid_reply_to"),
        ({"content": "   "}, "empty_message"),
    ]:
        error = await request(sender, "send_message", {"conversation_id": chat.id, **bad}, id=code)
        assert error["data"]["code"] == code
    for socket in (sender, listener):
        await socket.disconnect()
