"""Redis goes away and comes back under a running server: open sockets survive and keep sending
(stored; their live events are lost only as events), new sockets are refused with 4503 "try again
later", and once Redis is back new sockets open and live delivery resumes without a restart."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from accounts.tests.factories import ConsultantFactory
from conftest import access_token_for
from core.tests.live_server import daphne_servers, private_redis
from messaging.models import Message
from messaging.tests.factories import make_conversation
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def reply(ws, request_id: str, timeout: float = 5) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame.get("id") == request_id:
            return frame


async def received(ws, content: str, timeout: float) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame["event"] == "message_received" and frame["data"]["content"] == content:
            return frame["data"]


def send(ws, conversation_id: int, content: str, request_id: str):
    return ws.send(
        json.dumps(
            {
                "event": "send_message",
                "id": request_id,
                "data": {"conversation_id": conversation_id, "content": content, "client_id": request_id},
            }
        )
    )


def test_sockets_ride_out_a_redis_outage(tmp_path):
    office = OfficeFactory(name="Blink")
    alice, bob = ConsultantFactory(office=office), ConsultantFactory(office=office)
    chat = make_conversation(alice, bob, office=office)
    alice_token, bob_token = access_token_for(alice), access_token_for(bob)

    with private_redis() as redis_server, daphne_servers(tmp_path, REDIS_URL=redis_server.url) as ((port,), _):
        url = f"ws://127.0.0.1:{port}/ws/?token={{}}"

        async def scenario():
            async with ws_connect(url.format(alice_token)) as alice_ws, ws_connect(url.format(bob_token)) as bob_ws:
                await send(alice_ws, chat.id, "before", "m1")
                await received(bob_ws, "before", 5)

                redis_server.stop()
                await send(alice_ws, chat.id, "during", "m2")
                stored = await reply(alice_ws, "m2")
                assert stored["event"] == "ack" and stored["data"]["message"]["seq"] == 2
                newcomer = await ws_connect(url.format(alice_token))
                with pytest.raises(ConnectionClosed) as refused:
                    await asyncio.wait_for(newcomer.recv(), 5)
                assert refused.value.rcvd.code == 4503

                redis_server.start()
                for _ in range(50):  # the client's reconnect loop, every 200 ms
                    try:
                        again = await ws_connect(url.format(alice_token))
                        await again.send(json.dumps({"event": "ping", "id": "p"}))
                        if (await reply(again, "p"))["event"] == "ack":
                            break
                    except ConnectionClosed:
                        await asyncio.sleep(0.2)
                else:
                    pytest.fail("no socket opened after Redis came back")
                await again.close()
                # the sockets that stayed open hear live events again
                for attempt in range(20):
                    await send(alice_ws, chat.id, f"after {attempt}", f"a{attempt}")
                    try:
                        return (await received(bob_ws, f"after {attempt}", 0.5))["seq"]
                    except TimeoutError:
                        continue
                pytest.fail("live delivery did not resume after Redis came back")

        resumed_at = asyncio.run(scenario())
    assert resumed_at >= 3
    assert list(Message.objects.filter(conversation=chat).order_by("seq").values_list("content", flat=True))[:2] == [
        "before",
        "during",
    ]
