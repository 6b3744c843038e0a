"""Redis pools with a maximum: a burst waits for a connection instead of opening more, the wait is
bounded, what a timed-out wait becomes is handled where Redis being unreachable already is, and
`/metrics` shows each pool's connections. Against the real Redis, counted from its `CLIENT LIST`."""

import asyncio
import logging
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.tests.factories import ConsultantFactory, SuperAdminFactory
from conftest import access_token_for
from core import realtime, redis_pools
from core.outages import redis_outage
from core.redis_pools import PoolExhausted, pool_sizes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _redis_outage_forgotten():
    """A timed-out wait counts as Redis being unreachable for the process: forgotten between tests."""
    yield
    redis_outage.since, redis_outage.last_failure = None, float("-inf")


@pytest.fixture
def namespace():
    """Connections named for this test alone (the name carries the namespace), so CLIENT LIST on a
    shared Redis shows this test's pools and nothing else of this process."""
    name = f"pooltest{uuid.uuid4().hex[:8]}"
    with override_settings(REDIS_NAMESPACE=name):
        yield name


def named(pool):
    """Connections open on the Redis server under this process's name for `pool`."""
    admin = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    try:
        return sum(1 for client in admin.client_list() if client.get("name") == redis_pools.client_name(pool))
    finally:
        admin.close()


def test_the_maximum_is_split_between_the_pools_whatever_it_is():
    assert pool_sizes(16) == {
        "registry": 5,
        "cache": 4,
        "publish": 4,
        "loop_publish": 1,
        "layer": 1,
        "layer_subscriber": 1,
    }
    for total in range(6, 64):
        sizes = pool_sizes(total)
        assert sum(sizes.values()) == total and min(sizes.values()) >= 1
    with pytest.raises(ValueError, match="at least 6"):
        pool_sizes(5)


def test_the_default_fits_in_twenty_and_a_maximum_below_one_per_pool_is_refused():
    assert settings.REDIS_MAX_CONNECTIONS <= 20
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**__import__("os").environ, "REDIS_MAX_CONNECTIONS": "5"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "REDIS_MAX_CONNECTIONS must be at least 6" in result.stderr


@override_settings(REDIS_MAX_CONNECTIONS=9, REDIS_POOL_TIMEOUT=5)  # cache: 2 connections
def test_threads_past_the_maximum_wait_for_a_connection_instead_of_opening_one(namespace):
    pool = redis_pools.sync_pool("cache", settings.REDIS_URL)
    client = redis.Redis(connection_pool=pool)
    answers, errors = [], []

    def slow_command():  # holds its connection 0.2 s
        try:
            answers.append(client.blpop([f"{namespace}:empty"], timeout=0.2))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=slow_command) for _ in range(8)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert errors == [] and answers == [None] * 8  # nobody got an error
    assert elapsed >= 0.75  # 8 commands of 0.2 s, two at a time: they waited their turn
    assert named("cache") == pool.open() == 2  # Redis saw two connections, named
    pool.disconnect()


@override_settings(REDIS_MAX_CONNECTIONS=9, REDIS_POOL_TIMEOUT=0.3)
def test_a_thread_waits_at_most_the_pool_timeout_then_gets_pool_exhausted(namespace):
    pool = redis_pools.sync_pool("publish", settings.REDIS_URL)
    held = [pool.get_connection(), pool.get_connection()]
    started = time.monotonic()
    with pytest.raises(PoolExhausted, match=re.escape("'publish' within 0.3 s (all 2 in use)")):
        redis.Redis(connection_pool=pool).ping()
    assert 0.25 <= time.monotonic() - started < 1.5
    assert isinstance(PoolExhausted(), redis.ConnectionError)  # handled as Redis unreachable (core.outages)
    assert pool.timeouts == 1
    for connection in held:
        pool.release(connection)
    assert redis.Redis(connection_pool=pool).ping()  # a returned connection serves the next caller
    pool.disconnect()


@override_settings(REDIS_MAX_CONNECTIONS=9, REDIS_POOL_TIMEOUT=5)  # registry: 2 connections
async def test_tasks_past_the_maximum_wait_for_a_connection_instead_of_opening_one(namespace):
    pool = redis_pools.async_pool("registry", settings.REDIS_URL)
    client = redis.asyncio.Redis(connection_pool=pool)
    started = time.monotonic()
    answers = await asyncio.gather(*(client.blpop([f"{namespace}:empty"], timeout=0.2) for _ in range(8)))
    assert answers == [None] * 8
    assert time.monotonic() - started >= 0.75
    assert await asyncio.to_thread(named, "registry") == pool.open() == 2
    await pool.disconnect()


@override_settings(REDIS_MAX_CONNECTIONS=9, REDIS_POOL_TIMEOUT=0.3)
async def test_a_task_waits_at_most_the_pool_timeout_then_gets_pool_exhausted(namespace):
    pool = redis_pools.async_pool("registry", settings.REDIS_URL)
    held = [await pool.get_connection(), await pool.get_connection()]
    started = time.monotonic()
    with pytest.raises(PoolExhausted, match=re.escape("'registry' within 0.3 s")):
        await redis.asyncio.Redis(connection_pool=pool).ping()
    assert 0.25 <= time.monotonic() - started < 1.5
    assert pool.timeouts == 1
    for connection in held:
        await pool.release(connection)
    assert await redis.asyncio.Redis(connection_pool=pool).ping()
    await pool.disconnect()


@override_settings(REDIS_MAX_CONNECTIONS=6, REDIS_POOL_TIMEOUT=5)  # registry: one connection
async def test_tasks_get_the_connection_in_the_order_they_asked_for_it(namespace):
    """A task arriving just as a connection comes back does not take it from one already waiting
    (with redis-py's asyncio blocking pool it did: under a connect storm a waiter could wait out its
    whole timeout)."""
    pool = redis_pools.async_pool("registry", settings.REDIS_URL)
    held = await pool.get_connection()
    order = []

    async def take(name):
        connection = await pool.get_connection()
        order.append(name)
        await pool.release(connection)

    waiting = asyncio.create_task(take("waiting"))
    await asyncio.sleep(0.05)
    returned = asyncio.create_task(pool.release(held))
    newcomer = asyncio.create_task(take("newcomer"))  # arrives in the same loop turn as the return
    await asyncio.gather(returned, waiting, newcomer)
    assert order == ["waiting", "newcomer"]
    await pool.disconnect()


@pytest.fixture
def cache_pool_taken(monkeypatch):
    """Every connection of the process's cache pool held by someone else, for longer than a wait."""
    pool = cache.redis().connection_pool
    monkeypatch.setattr(pool, "timeout", 0.2)
    held = [pool.get_connection() for _ in range(pool.max_connections)]
    yield pool
    for connection in held:
        pool.release(connection)


@pytest.mark.django_db
def test_an_api_request_that_finds_the_cache_pool_taken_is_answered_and_still_rate_limited(cache_pool_taken, caplog):
    user = ConsultantFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
    with caplog.at_level(logging.WARNING, logger="crm.outages"), override_settings(RATE_LIMIT_MAX_REQUESTS=600):
        started = time.monotonic()
        response = client.get("/api/v1/auth/me")
    assert response.status_code == 200  # counted in process memory for the moment
    assert time.monotonic() - started < 2
    assert "rate limits counted in process memory" in caplog.text
    assert "no free connection in Redis pool 'cache'" in str([r.__dict__.get("error") for r in caplog.records])


@pytest.mark.django_db
def test_health_says_redis_is_unavailable_while_the_cache_pool_is_taken(cache_pool_taken):
    response = APIClient().get("/health")
    assert response.status_code == 503 and response.json()["redis"] == "down"


def test_an_event_published_while_the_publish_pool_is_taken_is_dropped_and_logged(monkeypatch, caplog):
    pool = realtime.sync_redis().connection_pool
    monkeypatch.setattr(pool, "timeout", 0.2)
    held = [pool.get_connection() for _ in range(pool.max_connections)]
    try:
        with caplog.at_level(logging.WARNING, logger="crm.outages"):
            realtime._publish([("user.1", {"type": realtime.EVENT_TYPE, "event": "x", "data": {}})])  # raises nothing
    finally:
        for connection in held:
            pool.release(connection)
    assert "live events dropped" in caplog.text
    assert "Redis pool 'publish'" in str([r.__dict__.get("error") for r in caplog.records])


@pytest.mark.django_db
def test_metrics_show_each_pools_connections_in_use_open_and_maximum():
    cache.set("warm", 1)  # the cache pool has opened a connection
    client = APIClient()
    client.force_authenticate(SuperAdminFactory())
    client.force_login(SuperAdminFactory(email="metrics@example.com"))
    body = client.get("/metrics").content.decode()
    for pool, size in pool_sizes(settings.REDIS_MAX_CONNECTIONS).items():
        assert f'crm_redis_connections_max{{pool="{pool}"}} {size:.1f}' in body
        assert f'crm_redis_connections_in_use{{pool="{pool}"}}' in body
        assert f'crm_redis_connections_open{{pool="{pool}"}}' in body
        assert f'crm_redis_pool_timeouts_total{{pool="{pool}"}}' in body
    opened = next(line for line in body.splitlines() if line.startswith('crm_redis_connections_open{pool="cache"}'))
    assert float(opened.split()[-1]) >= 1


def test_a_burst_of_jobs_queued_from_many_threads_holds_at_most_the_brokers_pool_limit():
    """Queueing jobs (requests, the push scheduler) goes through Celery's producer pool: 20 threads
    queueing at once share CELERY_BROKER_POOL_LIMIT broker connections, named as ours are, and open no
    more. Each broker connection is two Redis connections (kombu checks it with one, publishes on the other)."""
    from core.jobs import send_now  # noqa: PLC0415 - Celery's app loads with Django
    from notifications.tasks import prune_delivery_ledger  # noqa: PLC0415

    name = settings.CELERY_BROKER_TRANSPORT_OPTIONS["client_name"]
    admin = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    most = 0

    def queue_some():
        for _ in range(10):
            assert send_now(prune_delivery_ledger)

    threads = [threading.Thread(target=queue_some) for _ in range(20)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        # this process's own (a worker or server another test left running shares the name, not the ports)
        ours = {connection.laddr.port for connection in psutil.Process().net_connections(kind="tcp")}
        most = max(
            most,
            sum(
                1
                for client in admin.client_list()
                # (over a unix socket, as the embedded Redis serves, every client's port is 0: counted by name)
                if client.get("name") == name and int(client["addr"].rsplit(":", 1)[1]) in ours | {0}
            ),
        )
        time.sleep(0.01)
    admin.close()
    assert 1 <= most <= 2 * settings.CELERY_BROKER_POOL_LIMIT == 4
