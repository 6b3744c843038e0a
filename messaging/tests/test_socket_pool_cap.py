"""Sockets on a registry pool at its maximum: a burst of sockets opening and asking at once waits its
turn for the pool's connection (no client sees an error), and when no connection comes free within
REDIS_POOL_TIMEOUT the client gets the same answer as when Redis is unreachable."""

import asyncio
import uuid

import pytest
import redis
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings

from accounts.tests.factories import ConsultantFactory
from conftest import access_token_for
from core import redis_pools
from core.outages import redis_outage
from crm_project.asgi import application
from messaging.consumers import CLOSE_REASONS
from messaging.socket import registry
from messaging.tests.factories import make_conversation
from offices.tests.factories import OfficeFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def _redis_outage_forgotten():
    yield
    redis_outage.since, redis_outage.last_failure = None, float("-inf")


@pytest.fixture
def one_registry_connection():
    """The registry pool of this test's event loop has one connection (REDIS_MAX_CONNECTIONS=6), named
    for this test alone."""
    with override_settings(
        REDIS_MAX_CONNECTIONS=6, REDIS_POOL_TIMEOUT=0.5, REDIS_NAMESPACE=f"captest{uuid.uuid4().hex[:8]}"
    ):
        yield


def people(count):
    """{user id: token} of `count` consultants, in pairs sharing a conversation."""
    office = OfficeFactory(name="Cap")
    users = [ConsultantFactory(office=office) for _ in range(count)]
    for n in range(0, count - 1, 2):
        make_conversation(users[n], users[n + 1], office=office)
    return {user.pk: access_token_for(user) for user in users}


async def open_socket(token):
    communicator = WebsocketCommunicator(application, f"/ws/?token={token}")
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    return communicator


async def answer(communicator, event, data, request_id):
    """The frame's answer; a socket closed meanwhile (4503) fails here, and so does any error pushed first."""
    await communicator.send_json_to({"event": event, "data": data, "id": request_id})
    while True:
        frame = await communicator.receive_json_from(timeout=10)
        if frame.get("id") == request_id:
            return frame
        assert frame["event"] != "error", frame


def registry_connections():
    admin = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    try:
        return sum(1 for c in admin.client_list() if c.get("name") == redis_pools.client_name("registry"))
    finally:
        admin.close()


@pytest.fixture
def sixteen(transactional_db):
    return people(16)


@pytest.fixture
def two(transactional_db):
    return people(2)


async def test_a_burst_of_sockets_waits_for_the_one_registry_connection_and_nobody_sees_an_error(
    one_registry_connection, sixteen
):
    tokens = sixteen
    sockets = await asyncio.gather(*(open_socket(token) for token in tokens.values()))  # 16 registrations at once

    async def presence_then_ping(communicator, n):
        await communicator.send_json_to({"event": "update_presence", "data": {"presence": "away"}, "id": f"a{n}"})
        return [(await answer(communicator, "ping", {}, f"p{n}"))["event"]]  # the answers come in order

    answers = await asyncio.gather(*(presence_then_ping(ws, n) for n, ws in enumerate(sockets)))
    assert answers == [["ack"]] * 16
    assert registry.redis_client().connection_pool.open() == 1
    assert await asyncio.to_thread(registry_connections) == 1  # as Redis counts them
    assert await registry.presence_of(list(tokens)) == dict.fromkeys(tokens, "away")  # every change made
    for communicator in sockets:
        await communicator.disconnect(timeout=10)  # its offline announcement done before the test ends


async def test_when_no_registry_connection_comes_free_in_time_the_client_is_told_to_try_again(
    one_registry_connection, two
):
    first, second = two.values()
    open_one = await open_socket(first)
    pool = registry.redis_client().connection_pool
    held = await pool.get_connection()  # somebody holds the only connection longer than REDIS_POOL_TIMEOUT

    refused = await answer(open_one, "update_presence", {"presence": "busy"}, "1")
    assert refused["event"] == "error" and refused["data"]["code"] == "service_unavailable"
    assert refused["data"]["details"] == {"dependency": "redis"}
    assert (await answer(open_one, "ping", {}, "2"))["event"] == "ack"  # a ping needs no connection now
    newcomer = WebsocketCommunicator(application, f"/ws/?token={second}")
    await newcomer.connect(timeout=10)
    closed = await newcomer.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4503, "reason": CLOSE_REASONS[4503]}  # try again later

    await pool.release(held)
    assert (await answer(open_one, "update_presence", {"presence": "busy"}, "3"))["event"] == "ack"
    await open_one.disconnect(timeout=10)
