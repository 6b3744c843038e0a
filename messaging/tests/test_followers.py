"""A members group's followers (`core.realtime.follow`, `FOLLOWERS`): each process's hub is in the
group's set, an event is published to every follower's channel but the publishing process's own
when it delivered the event itself, a follower that no longer listens is forgotten, and a hub
writes its places again (a restarted Redis lost them)."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from core import realtime
from core.channel_layer import _LoopLayer
from core.realtime import PROCESS_TAG, conversation_message, followers_key, members_group
from messaging.socket.hub import hub
from messaging.tests.test_consumer import connect, next_event, request

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def followers(conversation_id: int) -> set[str]:
    pipe = realtime._publisher().client.pipeline(transaction=False)  # (redis-py types its asyncio commands as sync)
    pipe.smembers(followers_key(members_group(conversation_id)))
    [members] = await pipe.execute()
    return {member.decode() for member in members}


async def test_a_send_reaches_the_other_processes_and_is_not_read_back_here(people, chat, monkeypatch):
    """Before, the hub subscribed to the group and read every event of its own process back from
    Redis to drop it (13% of a worker's time per message)."""
    received: list[tuple[str, dict]] = []
    receive = _LoopLayer.receive

    async def recorded(layer, channel):
        message = await receive(layer, channel)
        received.append((channel, message))
        return message

    monkeypatch.setattr(_LoopLayer, "receive", recorded)
    sender, listener = await connect(people[0]), await connect(people[1])
    layer = get_channel_layer()
    elsewhere = await layer.new_channel("hub.")  # another process's hub, as Redis sees it
    await realtime._publisher().client.sadd(followers_key(members_group(chat.id)), f"other {elsewhere}")
    assert f"{PROCESS_TAG} {hub()._channel.result()}" in await followers(chat.id)

    ack = await request(sender, "send_message", {"conversation_id": chat.id, "content": "hi", "client_id": "f-1"})
    assert (await next_event(listener, "message_received"))["id"] == ack["data"]["message"]["id"]
    there = await asyncio.wait_for(layer.receive(elsewhere), 3)
    assert there["seq"] == ack["data"]["message"]["seq"] and there["origin"] == PROCESS_TAG

    # An event published to every follower (from a request thread) comes back here; the send did not.
    marker = conversation_message(chat.id, [people[1].id], "marker", {}, sender_id=people[0].id)
    await sync_to_async(realtime._publish)([(members_group(chat.id), marker)])
    await next_event(listener, "marker")
    here = hub()._channel.result()
    assert [message["event"] for channel, message in received if channel == here] == ["marker"]
    for socket in (sender, listener):
        await socket.disconnect()


async def test_a_follower_whose_channel_no_longer_listens_is_forgotten(people, chat):
    listener = await connect(people[1])
    gone = f"other {realtime._group_channel('hub.gone')}"  # a process that died with its place
    await realtime._publisher().client.sadd(followers_key(members_group(chat.id)), gone)
    event = conversation_message(chat.id, [people[1].id], "marker", {}, sender_id=people[0].id)
    await sync_to_async(realtime._publish)([(members_group(chat.id), event)])
    await next_event(listener, "marker")
    assert await followers(chat.id) == {f"{PROCESS_TAG} {hub()._channel.result()}"}
    await listener.disconnect()
    assert await followers(chat.id) == set()  # the last socket here left: so did the hub


async def test_a_hub_takes_its_places_again_after_redis_lost_them(people, chat):
    listener = await connect(people[1])
    await realtime._publisher().client.delete(followers_key(members_group(chat.id)))  # as a restarted Redis
    await hub()._follow_again()
    assert await followers(chat.id) == {f"{PROCESS_TAG} {hub()._channel.result()}"}
    ttl = await realtime._publisher().client.ttl(followers_key(members_group(chat.id)))
    assert 0 < ttl <= realtime.FOLLOWERS_TTL_SECONDS  # gone in an hour once no process follows it
    event = conversation_message(chat.id, [people[1].id], "marker", {}, sender_id=people[0].id)
    await sync_to_async(realtime._publish)([(members_group(chat.id), event)])
    await next_event(listener, "marker")
    await listener.disconnect()
