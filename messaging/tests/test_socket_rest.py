"""REST over socket state: users/presence scoping and /socket-stats totals, with real sockets open."""

import json

import pytest
from channels.db import database_sync_to_async

from messaging import services
from messaging.tests.test_consumer import connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def get(client, path):
    return await database_sync_to_async(client.get)(path)


async def test_presence_lists_only_users_the_caller_may_see(people, chat, other_consultant, client_for):
    socket = await connect(people[1])
    client = await database_sync_to_async(client_for)(people[0])
    response = await get(client, f"/api/v1/users/presence?ids={people[1].id},{people[2].id},{other_consultant.id}")
    assert response.status_code == 200
    statuses = {row["user_id"]: row["status"] for row in response.json()["results"]}
    # the consultant from another office shares no conversation: left out, not reported offline
    assert statuses == {people[1].id: "online", people[2].id: "offline"}
    await socket.disconnect()

    bad = await get(client, "/api/v1/users/presence?ids=1,x")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_ids"
    too_many = await get(client, "/api/v1/users/presence/?ids=" + ",".join(str(n) for n in range(1, 202)))
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "too_many_ids"


async def test_socket_stats_is_staff_only_and_counts_sockets_and_messages(people, chat, student, manager, client_for):
    first, second, other = await connect(people[0]), await connect(people[0]), await connect(people[1])
    await database_sync_to_async(services.message_send)(sender=people[0], conversation=chat, content="hello")

    refused = await get(await database_sync_to_async(client_for)(student), "/socket-stats")
    assert refused.status_code == 403
    stats = (await get(await database_sync_to_async(client_for)(manager), "/socket-stats/")).json()
    assert stats["sockets"] == 3 and stats["connected_users"] == 2
    assert stats["messages_last_minute"] == 1

    for socket in (first, second, other):
        await socket.disconnect()
    after = (await get(await database_sync_to_async(client_for)(manager), "/socket-stats")).json()
    assert after["sockets"] == 0 and after["connected_users"] == 0


# One input contract for a send: the socket validates send_message with REST's MessageSendSerializer.
@pytest.mark.parametrize(
    "body, field",
    [
        ({"content": "x"}, "conversation_id"),
        ({"conversation_id": "abc", "content": "x"}, "conversation_id"),
        ({"conversation_id": 0, "content": "x"}, "conversation_id"),
        ({"content": {"nested": "object"}}, "content"),
        ({"content": "bad \ud800 text"}, "content"),  # a lone surrogate: not storable
        ({"content": "a\x00b"}, "content"),
        ({"content": "x", "type": "system"}, "type"),
        ({"content": "x", "reply_to_id": "abc"}, "reply_to_id"),
        ({"content": "x", "client_id": "c" * 65}, "client_id"),
        ({"content": "x", "client_id": "   "}, "client_id"),
        ({"content": "x", "client_id": ["list"]}, "client_id"),
    ],
)
async def test_rest_and_socket_refuse_the_same_sends(people, chat, client_for, body, field):
    if field != "conversation_id":
        body = {"conversation_id": chat.id, **body}
    client = await database_sync_to_async(client_for)(people[0])
    raw = json.dumps(body)  # as a client sends it: a lone surrogate escaped as \ud800
    rest = await database_sync_to_async(client.post)("/api/v1/messages", raw, content_type="application/json")
    assert rest.status_code == 400 and field in rest.json()["error"]["details"]
    socket = await connect(people[0])
    await socket.send_json_to({"event": "send_message", "data": body, "id": "s"})
    refused = await socket.receive_json_from()
    assert refused["event"] == "error" and field in {
        refused["data"]["details"].get("field"),
        *refused["data"]["details"].get("fields", []),
    }
    await socket.disconnect()
    assert not await database_sync_to_async(chat.messages.exists)()
