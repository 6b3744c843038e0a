"""The socket path's shortcuts (docs/performance.md, "Cutting the Python per message"), each pinned:
the event's frame made once per event and its ASGI message shared by every socket of the process,
frames encoded by orjson (compact, UTF-8 as is), a frame in dispatched straight to `receive`, pushed
frames handed to the server without waiting for them to be written."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from core.realtime import frame
from messaging import services
from messaging.consumers import ChatConsumer
from messaging.tests.test_consumer import connect, request

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def message_received(socket):
    while True:  # (a presence event may come first)
        output = await socket.receive_output(timeout=3)
        if json.loads(output["text"])["event"] == "message_received":
            return output


async def test_every_socket_of_the_process_gets_the_same_asgi_message_of_an_event(people, chat):
    sockets = [await connect(person) for person in people[1:]]
    await database_sync_to_async(services.message_send)(sender=people[0], conversation=chat, content="once é")
    got = [await message_received(socket) for socket in sockets]
    assert got[0] is got[1]  # one dict, made by the hub, for both sockets
    assert got[0]["type"] == "websocket.send"
    assert json.loads(got[0]["text"])["data"]["content"] == "once é"
    for socket in sockets:
        await socket.disconnect()


async def test_frames_are_compact_json_with_text_as_is():
    text = frame("message_received", {"content": 'é ✓ \U0001f600 "q" \n', "id": 2**63 - 1})
    assert (
        text == '{"event":"message_received","data":{"content":"é ✓ \U0001f600 \\"q\\" \\n","id":9223372036854775807}}'
    )
    assert json.loads(text)["data"]["id"] == 2**63 - 1


async def test_a_frame_in_goes_straight_to_receive(people, monkeypatch):
    """`dispatch` hands `websocket.receive` to `receive` without Channels' `websocket_receive`."""

    async def not_used(self, message):
        raise AssertionError("websocket_receive was called")

    monkeypatch.setattr(ChatConsumer, "websocket_receive", not_used)
    socket = await connect(people[0])
    assert (await request(socket, "ping"))["data"] == {"pong": True}
    await socket.disconnect()


async def test_a_pushed_frame_is_handed_to_the_server_without_waiting_for_it_to_be_written():
    """Under granian `send` returns the server's own awaitable (not a coroutine), done once the frame is
    written; a push returns once the frame is handed over (`core.edge` keeps the socket's frames in order)."""
    handed: list[str] = []

    def server_send(message):
        handed.append(message["text"])
        return asyncio.get_running_loop().create_future()  # never written, in this test

    socket = ChatConsumer()
    socket.base_send = server_send
    await asyncio.wait_for(socket.send_shared({"type": "websocket.send", "text": "1"}), timeout=1)
    assert handed == ["1"]
