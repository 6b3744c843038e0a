"""Two real daphne processes sharing PostgreSQL and Redis: delivery, order, presence and the
connection cap agree across them, and no token reaches their logs."""

import asyncio
import json
import urllib.request

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from accounts.tests.factories import ConsultantFactory, ManagerFactory, SuperAdminFactory
from conftest import access_token_for
from core.tests.live_server import daphne_servers
from messaging.tests.factories import make_conversation
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def servers(tmp_path):
    with daphne_servers(
        tmp_path, count=2, SOCKET_MAX_CONNECTIONS_PER_USER="2", DEBUG_SOCKET="true", LOG_LEVEL="DEBUG"
    ) as running:
        yield running


async def next_event(ws, name, timeout=5):
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame["event"] == name:
            return frame


def test_two_processes_share_delivery_presence_and_the_cap(servers):
    ports, logs = servers
    office = OfficeFactory(name="Multi")
    sender, receiver = ConsultantFactory(office=office), ConsultantFactory(office=office)
    conversation = make_conversation(sender, receiver, office=office)
    sender_token, receiver_token = access_token_for(sender), access_token_for(receiver)

    async def scenario():
        url = "ws://127.0.0.1:{}/ws/?token={}"
        async with (
            ws_connect(url.format(ports[1], receiver_token)) as listener,
            ws_connect(url.format(ports[0], sender_token)) as talker,
        ):
            for n in range(10):
                await talker.send(
                    json.dumps(
                        {
                            "event": "send_message",
                            "id": str(n),
                            "data": {"conversation_id": conversation.id, "content": f"m{n}"},
                        }
                    )
                )
            seqs = [(await next_event(listener, "message_received"))["data"]["seq"] for _ in range(10)]
            assert seqs == list(range(1, 11))

            # presence asked through the other process sees the sender online
            request = urllib.request.Request(
                f"http://127.0.0.1:{ports[1]}/api/v1/users/presence?ids={sender.id}",
                headers={"Authorization": f"Bearer {receiver_token}"},
            )
            body = json.loads(await asyncio.to_thread(lambda: urllib.request.urlopen(request, timeout=5).read()))
            assert body["results"][0]["status"] == "online"

            # the cap (2 here) counts sockets on both processes
            async with ws_connect(url.format(ports[1], sender_token)) as second:
                await second.send(json.dumps({"event": "ping", "id": "p"}))
                assert (await next_event(second, "ack"))["id"] == "p"
                third = await ws_connect(url.format(ports[0], sender_token))
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(third.recv(), 5)
                assert closed.value.rcvd.code == 4429

    asyncio.run(scenario())
    for log in logs:
        log.seek(0)
        text = log.read()
        assert sender_token not in text and receiver_token not in text


def test_a_role_changed_through_one_process_closes_the_monitors_socket_on_the_other(servers):
    """The users API on one process demotes a manager monitoring a conversation from a socket on the
    other: that socket closes with 4409 (rights changed) and hears nothing more of the conversation."""
    ports, _ = servers
    office = OfficeFactory(name="Multi")
    alice, bob = ConsultantFactory(office=office), ConsultantFactory(office=office)
    manager, admin = ManagerFactory(office=office), SuperAdminFactory()
    conversation = make_conversation(alice, bob, office=office)
    manager_token, alice_token, admin_token = map(access_token_for, (manager, alice, admin))

    def demote() -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{ports[0]}/api/v1/users/{manager.id}",
            data=json.dumps({"role": "consultant"}).encode(),
            headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
            method="PATCH",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status

    async def say(ws, content, id):
        data = {"conversation_id": conversation.id, "content": content}
        await ws.send(json.dumps({"event": "send_message", "id": id, "data": data}))

    async def scenario():
        url = "ws://127.0.0.1:{}/ws/?token={}"
        async with (
            ws_connect(url.format(ports[1], manager_token)) as monitor,
            ws_connect(url.format(ports[0], alice_token)) as talker,
        ):
            await monitor.send(
                json.dumps({"event": "join_conversation", "id": "j", "data": {"conversation_id": conversation.id}})
            )
            assert (await next_event(monitor, "ack"))["data"]["read_only"] is True
            await say(talker, "watched", "1")
            assert (await next_event(monitor, "message_received"))["data"]["content"] == "watched"
            assert await asyncio.to_thread(demote) == 200
            with pytest.raises(ConnectionClosed) as closed:
                await next_event(monitor, "message_received", timeout=5)
            assert closed.value.rcvd.code == 4409

    asyncio.run(scenario())
