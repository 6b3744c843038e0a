"""Two installations on one Redis server (different Redis databases, no namespace configured):
neither sees the other's events, keys or counters."""

import asyncio
import json
import urllib.request
from urllib.parse import parse_qs, urlparse, urlunparse

import pytest
from django.conf import settings
from websockets.asyncio.client import connect as ws_connect

from accounts.tests.factories import ConsultantFactory, ManagerFactory
from conftest import access_token_for
from core.tests.live_server import daphne_servers
from messaging.tests.factories import make_conversation
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db(transaction=True)


def other_redis_database(url: str) -> str:
    """The same Redis server, the next database number (redis://host/n or unix://path?db=n)."""
    parts = urlparse(url)
    if parts.scheme == "unix":
        number = int(parse_qs(parts.query).get("db", ["0"])[0])
        return f"{url.partition('?')[0]}?db={(number + 1) % 16}"  # urlunparse would drop the empty host's //
    return urlunparse(parts._replace(path=f"/{(int(parts.path.strip('/') or 0) + 1) % 16}"))


async def first(ws, event: str) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame["event"] == event:
            return frame["data"]


def announce(port: int, token: str, title: str) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/announcements",
        data=json.dumps({"title": title}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    assert urllib.request.urlopen(request, timeout=5).status == 201


def test_installations_sharing_a_redis_server_never_meet(tmp_path):
    office = OfficeFactory(name="Shared Redis")
    alice, bob = ConsultantFactory(office=office), ConsultantFactory(office=office)
    manager = ManagerFactory(office=office)
    conversation = make_conversation(alice, bob, office=office)
    # B talks in a conversation of its own: the two share one database here, and a socket reads a gap
    # in a conversation's seq back from the database (A's message would fill B's gap, rightly).
    conversation_b = make_conversation(alice, bob, office=office)
    tokens = {user: access_token_for(user) for user in (alice, bob, manager)}
    # The same database stands in for "another installation with the same user ids"; each server
    # derives its own namespace (REDIS_NAMESPACE left empty), as an operator who set nothing would get.
    common = {"REDIS_NAMESPACE": "", "SOCKET_MAX_CONNECTIONS_PER_USER": "1"}
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    with (
        daphne_servers(tmp_path / "a", **common) as ((a,), _),
        daphne_servers(tmp_path / "b", REDIS_URL=other_redis_database(settings.REDIS_URL), **common) as ((b,), _),
    ):

        async def scenario():
            url = "ws://127.0.0.1:{}/ws/?token={}"
            # one socket each is the cap: bob's socket on B is not counted against his socket on A
            async with (
                ws_connect(url.format(a, tokens[bob])) as bob_a,
                ws_connect(url.format(b, tokens[bob])) as bob_b,
                ws_connect(url.format(a, tokens[alice])) as alice_a,
                ws_connect(url.format(b, tokens[alice])) as alice_b,
            ):
                for ws in (bob_a, bob_b, alice_a, alice_b):
                    await ws.send(json.dumps({"event": "ping", "id": "p"}))
                    assert (await first(ws, "ack"))["pong"] is True

                await alice_a.send(
                    json.dumps(
                        {
                            "event": "send_message",
                            "data": {"conversation_id": conversation.id, "content": "for installation A"},
                        }
                    )
                )
                assert (await first(bob_a, "message_received"))["content"] == "for installation A"
                await asyncio.to_thread(announce, a, tokens[manager], "A's announcement")
                assert (await first(bob_a, "system_announcement"))["title"] == "A's announcement"

                # B's own events reach B's socket, and come first: nothing of A's got there before them
                await alice_b.send(
                    json.dumps(
                        {
                            "event": "send_message",
                            "data": {"conversation_id": conversation_b.id, "content": "for installation B"},
                        }
                    )
                )
                assert (await first(bob_b, "message_received"))["content"] == "for installation B"
                await asyncio.to_thread(announce, b, tokens[manager], "B's announcement")
                assert (await first(bob_b, "system_announcement"))["title"] == "B's announcement"

        asyncio.run(scenario())
