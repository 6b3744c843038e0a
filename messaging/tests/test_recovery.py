"""Nothing lost, nothing doubled: reconnect catch-up with after=<seq>, and recovery when the
channel layer drops under overload."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from rest_framework.test import APIClient

from accounts.tests.factories import ConsultantFactory
from conftest import access_token_for
from core import realtime
from core.realtime import members_group
from messaging import services
from messaging.socket import hub
from messaging.tests.factories import make_conversation
from messaging.tests.test_consumer import connect, next_event
from offices.tests.factories import OfficeFactory


def history_after(user, conversation_id, seq):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
    return [
        m["seq"] for m in client.get(f"/api/v1/conversations/{conversation_id}/messages?after={seq}").json()["results"]
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_reconnecting_client_catches_up_without_gaps_or_doubles():
    office = await database_sync_to_async(OfficeFactory)(name="Reconnect")
    alice, bob = [await database_sync_to_async(ConsultantFactory)(office=office) for _ in range(2)]
    chat = await database_sync_to_async(make_conversation)(alice, bob, office=office)
    send = database_sync_to_async(services.message_send)

    socket = await connect(bob)
    await send(sender=alice, conversation=chat, content="before")
    seen = [(await next_event(socket, "message_received"))["seq"]]
    await socket.disconnect()

    for n in range(3):  # arrive while bob is away
        await send(sender=alice, conversation=chat, content=f"while away {n}")

    socket = await connect(bob)
    seen += await database_sync_to_async(history_after)(bob, chat.id, seen[-1])
    await send(sender=alice, conversation=chat, content="after")
    seen.append((await next_event(socket, "message_received"))["seq"])
    assert await socket.receive_nothing(timeout=0.3)
    assert seen == [1, 2, 3, 4, 5]
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
def test_dropped_events_are_recovered_from_the_database(settings):
    """A channel over capacity loses events (the layer is not a guarantee); after=<seq> is."""
    layers = {**settings.CHANNEL_LAYERS}
    # The list-based layer drops past its capacity (the pub/sub layer drops for absent or slow subscribers).
    layers["default"] = {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {**layers["default"]["CONFIG"], "capacity": 3},
    }
    settings.CHANNEL_LAYERS = layers
    office = OfficeFactory(name="Overload")
    alice, bob = ConsultantFactory(office=office), ConsultantFactory(office=office)
    chat = make_conversation(alice, bob, office=office)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(members_group(chat.id), channel)

    for n in range(20):  # nobody reads the channel meanwhile: a slow or stalled client
        services.message_send(sender=alice, conversation=chat, content=f"burst {n}")

    async def drain():
        got = []
        while True:
            try:
                got.append(await asyncio.wait_for(layer.receive(channel), 0.3))
            except TimeoutError:
                return got

    pushed = [m["seq"] for m in async_to_sync(drain)() if m["event"] == "message_received"]
    assert 0 < len(pushed) < 20  # the layer kept what fit and dropped the rest
    assert pushed == list(range(1, len(pushed) + 1))
    # the client catches up from the last seq it saw: everything, once
    assert history_after(bob, chat.id, pushed[-1]) == list(range(len(pushed) + 1, 21))


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_message_overtaken_by_the_next_is_still_pushed_first_on_a_new_socket(monkeypatch):
    """Two sends commit in order but their events reach Redis the other way round (their publishing
    threads race): a socket opened just before must push both, in order, not only the later one."""
    office = await database_sync_to_async(OfficeFactory)(name="Overtaken")
    alice, bob = [await database_sync_to_async(ConsultantFactory)(office=office) for _ in range(2)]
    chat = await database_sync_to_async(make_conversation)(alice, bob, office=office)
    send = database_sync_to_async(services.message_send)
    await send(sender=alice, conversation=chat, content="before bob connects")

    socket = await connect(bob)
    held = []
    monkeypatch.setattr(realtime, "publish_on_commit", held.extend)  # hold the two events back
    for n in (2, 3):
        await send(sender=alice, conversation=chat, content=f"m{n}")
    monkeypatch.undo()
    await database_sync_to_async(realtime._publish)(held[::-1])  # the later one reaches Redis first

    assert [(await next_event(socket, "message_received"))["seq"] for _ in range(2)] == [2, 3]
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_messages_whose_events_never_came_are_read_back_to_open_sockets(monkeypatch):
    """An event published while Redis was away is gone; the socket stays open and nothing else
    would tell it. The process's hub notices the conversation is behind the database and reads
    the missing messages back, in order, once."""
    monkeypatch.setattr(hub, "READ_BACK_SECONDS", 0.1)
    office = await database_sync_to_async(OfficeFactory)(name="Read back")
    alice, bob = [await database_sync_to_async(ConsultantFactory)(office=office) for _ in range(2)]
    chat = await database_sync_to_async(make_conversation)(alice, bob, office=office)
    send = database_sync_to_async(services.message_send)

    socket = await connect(bob)
    await send(sender=alice, conversation=chat, content="live")
    assert (await next_event(socket, "message_received"))["seq"] == 1
    with monkeypatch.context() as outage:
        outage.setattr(realtime, "_publish", lambda sends: None)  # Redis away: the events are lost
        for n in range(3):
            await send(sender=alice, conversation=chat, content=f"unheard {n}")
    assert [(await next_event(socket, "message_received", timeout=2))["seq"] for _ in range(3)] == [2, 3, 4]
    assert await socket.receive_nothing(timeout=0.5)  # read back once, not again at every look
    await socket.disconnect()
