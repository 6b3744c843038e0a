"""The registry's calls of a thousand sockets at once go to Redis in batches, one pipeline on one
connection: renewals (a `ping`, the socket's heartbeat) asked for within RENEW_BATCH_SECONDS, and the
sockets opening or closing while the previous write is on its way. Against the real Redis; what is
checked is what the registry holds there."""

import asyncio
import time

import pytest
from django.conf import settings
from django.test import override_settings
from redis.asyncio.client import Pipeline

from core.outages import redis_outage
from messaging.socket import registry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

USER = 50_000_000  # user ids of sockets made here (the registry keeps ids, not rows)


@pytest.fixture(autouse=True)
def _redis_outage_forgotten():
    yield
    redis_outage.since, redis_outage.last_failure = None, float("-inf")


def socket_of(n):
    return USER + n, f"specific.renewal!{n}"


async def expiries(user_id):
    """{member: expiry} of the user's sockets, and of their entries in the stats set."""
    client = registry.redis_client()
    sockets = await client.zrange(registry.key("sockets", user_id), 0, -1, withscores=True)
    stats = await client.zrange(registry.key("stats", "sockets"), 0, -1, withscores=True)
    found = {f"sockets {member.split(' ', 1)[1]}": score for member, score in sockets}
    found |= {f"stats {member}": score for member, score in stats if member.startswith(f"{user_id}|")}
    return found


async def batch_written():
    renewals = registry._renewals()
    while renewals.task is not None:
        await renewals.task


async def test_a_thousand_renewals_at_once_reach_redis_in_one_pipeline():
    sockets = [socket_of(n) for n in range(1000)]
    assert all(await asyncio.gather(*(registry.connection_open(u, c) for u, c in sockets)))
    renewals = registry._renewals()
    writes = renewals.writes
    asked_at = registry._now_ms()

    started = time.monotonic()
    for user_id, channel in sockets:
        await registry.connection_renew(user_id, channel)
    assert time.monotonic() - started < registry.RENEW_BATCH_SECONDS  # nobody waited for Redis
    await batch_written()

    assert renewals.writes == writes + 1
    renewed = [await expiries(user_id) for user_id, _ in sockets[::50]]
    assert all(len(found) == 2 for found in renewed)  # the socket's entry and its stats entry
    ttl = settings.SOCKET_PING_TIMEOUT * 2
    assert all(score >= asked_at + ttl for found in renewed for score in found.values())
    client = registry.redis_client()
    assert await client.pttl(registry.key("sockets", sockets[0][0])) > ttl


async def test_a_socket_closed_before_its_renewal_is_written_stays_closed():
    user_id, channel = socket_of(1)
    await registry.connection_open(user_id, channel)
    await registry.connection_renew(user_id, channel)
    assert await registry.connection_close(user_id, channel) == 0
    await asyncio.sleep(registry.RENEW_BATCH_SECONDS + 0.1)
    await batch_written()
    assert await expiries(user_id) == {}
    assert await registry.live_socket_count(user_id) == 0


async def test_a_socket_closed_while_its_renewal_is_on_its_way_is_removed_after_it(monkeypatch):
    user_id, channel = socket_of(2)
    await registry.connection_open(user_id, channel)
    on_its_way = asyncio.Event()
    execute = Pipeline.execute

    async def slow_network(pipeline, raise_on_error=True):
        if not pipeline.is_transaction:  # the renewals' (the removal's is a transaction)
            on_its_way.set()
            await asyncio.sleep(0.3)
        return await execute(pipeline, raise_on_error)

    monkeypatch.setattr(Pipeline, "execute", slow_network)
    await registry.connection_renew(user_id, channel)
    await on_its_way.wait()
    assert await registry.connection_close(user_id, channel) == 0  # while the renewal is on its way
    await batch_written()
    assert await expiries(user_id) == {}  # the renewal did not bring the closed socket back


@override_settings(REDIS_MAX_CONNECTIONS=6, REDIS_POOL_TIMEOUT=0.2)
async def test_a_renewal_that_could_not_be_written_goes_with_the_next_batch():
    (first, first_channel), (second, second_channel) = socket_of(3), socket_of(4)
    await registry.connection_open(first, first_channel)
    await registry.connection_open(second, second_channel)
    opened = await expiries(first)
    pool = registry.redis_client().connection_pool
    held = await pool.get_connection()
    await registry.connection_renew(first, first_channel)
    await batch_written()  # waited 0.2 s for a connection, then gave up
    assert registry._renewals().pending == {first_channel: first}
    await pool.release(held)
    assert await expiries(first) == opened

    await asyncio.sleep(0.01)  # a later expiry than the first one's
    await registry.connection_renew(second, second_channel)
    await batch_written()
    assert all(score > opened[member] for member, score in (await expiries(first)).items())
    assert registry._renewals().pending == {}


@override_settings(REDIS_MAX_CONNECTIONS=6)  # the registry pool: one connection
async def test_a_thousand_sockets_opening_and_closing_at_once_take_a_few_round_trips_on_one_connection():
    sockets = [socket_of(n) for n in range(1000)]
    opens, closes = registry._opens(), registry._closes()
    counts = await asyncio.gather(*(registry.connection_open(u, c) for u, c in sockets))
    assert counts == [1] * 1000  # each user's one socket, registered
    assert opens.writes <= 3
    assert await registry.live_socket_count(sockets[-1][0]) == 1
    assert await registry.stats() == {"connected_users": 1000, "sockets": 1000, "active_conversations": 0}

    left = await asyncio.gather(*(registry.connection_close(u, c) for u, c in sockets))
    assert left == [0] * 1000
    assert closes.writes <= 3
    assert (await registry.stats())["sockets"] == 0
    assert registry.redis_client().connection_pool.open() == 1


async def test_in_one_batch_the_registration_past_the_per_user_cap_is_refused_and_the_others_counted():
    user_id = USER + 7
    channels = [f"specific.cap!{n}" for n in range(settings.SOCKET_MAX_CONNECTIONS_PER_USER + 1)]
    counts = await asyncio.gather(*(registry.connection_open(user_id, channel) for channel in channels))
    assert sorted(counts, key=lambda c: c or 0) == [None, *range(1, settings.SOCKET_MAX_CONNECTIONS_PER_USER + 1)]
