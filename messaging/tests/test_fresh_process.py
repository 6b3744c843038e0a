"""A freshly started server process with every client connecting at once (what a deploy causes):
every conversation still delivers every message live, to every member."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect as ws_connect

from accounts.tests.factories import ConsultantFactory
from conftest import access_token_for
from core.tests.live_server import daphne_servers
from messaging.tests.factories import make_conversation
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db(transaction=True)

CONVERSATIONS, MEMBERS = 30, 10


def test_a_reconnect_storm_on_a_fresh_process_loses_no_conversation(tmp_path):
    office = OfficeFactory(name="Storm")
    groups = []
    for _ in range(CONVERSATIONS):
        members = [ConsultantFactory(office=office) for _ in range(MEMBERS)]
        groups.append((make_conversation(*members, office=office), [access_token_for(m) for m in members]))

    async def storm(port):
        url = f"ws://127.0.0.1:{port}/ws/?token={{}}"
        # every socket at once, into a process that has served nothing yet
        sockets = await asyncio.gather(*[ws_connect(url.format(token)) for _, tokens in groups for token in tokens])
        by_group = [sockets[n * MEMBERS : (n + 1) * MEMBERS] for n in range(CONVERSATIONS)]
        for (conversation, _), members in zip(groups, by_group, strict=True):
            await members[0].send(
                json.dumps(
                    {
                        "event": "send_message",
                        "id": "s",
                        "data": {"conversation_id": conversation.id, "content": "after deploy"},
                    }
                )
            )

        async def received(ws, conversation_id):
            while True:
                frame = json.loads(await ws.recv())
                if frame["event"] == "message_received" and frame["data"]["conversation_id"] == conversation_id:
                    return True

        async def delivered(ws, conversation_id):
            try:
                return await asyncio.wait_for(received(ws, conversation_id), 10)
            except TimeoutError:
                return False

        outcome = await asyncio.gather(
            *[
                delivered(ws, conversation.id)
                for (conversation, _), members in zip(groups, by_group, strict=True)
                for ws in members
            ]
        )
        await asyncio.gather(*[ws.close() for ws in sockets])
        return outcome

    with daphne_servers(tmp_path) as (ports, _):
        outcome = asyncio.run(storm(ports[0]))
    # the sender's own sockets see their message too, so every socket counts
    assert outcome.count(False) == 0, f"{outcome.count(False)} of {len(outcome)} sockets got nothing live"
