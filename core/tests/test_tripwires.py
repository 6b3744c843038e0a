"""Tripwires: every private name of a library the code reads, patches or stands in for, pinned.

Each entry is the library code our file relies on, by the sha256 of its source: an upgrade that
changes it fails here with the file of ours to re-read against the new version (then update the
digest). Beside them, behaviour checks for the ones whose meaning is easy to test directly. The list,
by dependency, is in docs/operations.md, "Upgrading dependencies". (Django's handler internals are
pinned in core/tests/test_handlers.py, daphne's close handling in core/tests/test_daphne_close.py.)
"""

from __future__ import annotations

import atexit
import collections
import functools
import hashlib
import importlib
import inspect
from typing import Any

import autobahn.util
import pytest
from channels.consumer import AsyncConsumer, get_handler_name
from channels_redis.pubsub import RedisPubSubLoopLayer
from daphne.http_protocol import WebRequest
from django.db import connection
from django.utils.functional import cached_property as django_cached_property
from firebase_admin import messaging as firebase_messaging

import crm_project.asgi  # noqa: F401  (its patches are applied on import)
from core import async_db, realtime
from core.postgresql.base import DatabaseWrapper
from messaging.consumers import ChatConsumer

# target ("module:Qualified.name") -> (our file to re-read on a change, sha256 of the source, 12 digits)
PINNED: dict[str, tuple[str, str]] = {
    # the pub/sub layer's group channel name, which core.realtime publishes to straight from Redis
    "channels_redis.pubsub:RedisPubSubLoopLayer._get_group_channel_name": ("core/realtime.py", "c3139bae61c6"),
    # core.channel_layer: its shards on core.redis_pools' pools
    "channels_redis.pubsub:RedisPubSubLoopLayer.__init__": ("core/channel_layer.py", "fd9d37e27529"),
    "channels_redis.pubsub:RedisPubSubChannelLayer._get_layer": ("core/channel_layer.py", "1862b87a25ac"),
    "channels_redis.pubsub:RedisSingleShardConnection._ensure_redis": ("core/channel_layer.py", "ba228d3cee71"),
    "channels_redis.pubsub:RedisSingleShardConnection.flush": ("core/channel_layer.py", "d122fe3f4578"),
    "channels_redis.utils:_close_redis": ("core/channel_layer.py", "43dd22ff1469"),
    "channels_redis.utils:_wrap_close": ("core/channel_layer.py", "3d610af16837"),
    # messaging.consumers overrides Channels' dispatch (without its close of old database connections)
    "channels.consumer:AsyncConsumer.dispatch": ("messaging/consumers.py", "39f34e7d4fb0"),
    # core.async_db empties an orphaned pool's deque of idle connections (`_pool`)
    "psycopg_pool.pool_async:AsyncConnectionPool._add_to_pool": ("core/async_db.py", "cffcda73506b"),
    # core.postgresql.base: a pooled connection's `_pool`; Django's pools by alias (`_connection_pools`)
    "psycopg_pool.pool:ConnectionPool._add_to_pool": ("core/postgresql/base.py", "6bcb32c4f4b5"),
    "django.db.backends.postgresql.base:DatabaseWrapper.pool": (
        "core/postgresql/base.py and core/outages.py",
        "e5c2654fdf2d",
    ),
    "django.db.backends.postgresql.base:DatabaseWrapper.close_pool": ("core/outages.py", "9680149e647d"),
    # crm_project.asgi: autobahn's `_HAS_CLICK`, Twisted's `_parsePOSTFormSubmission` (daphne)
    "autobahn.util:hl": ("crm_project/asgi.py", "f17ac08c2642"),
    "twisted.web.http:Request.__init__": ("crm_project/asgi.py", "2d3f7dbd28d0"),
    "twisted.web.http:Request.requestReceived": ("crm_project/asgi.py", "99ca6c5e2430"),
    # core.cache: Django's Redis cache client's private attributes and methods
    "django.core.cache.backends.redis:RedisCacheClient.__init__": ("core/cache.py", "84b786df9ad9"),
    "django.core.cache.backends.redis:RedisCacheClient.get_client": ("core/cache.py", "ba56fb39ace7"),
    "django.core.cache.backends.redis:RedisCacheClient._get_connection_pool_index": ("core/cache.py", "8b1a0dd8935e"),
    "django.core.cache.backends.redis:RedisCache.__init__": ("core/cache.py", "40131bec6169"),
    "django.core.cache.backends.redis:RedisCache._cache": ("core/cache.py", "9ff16af6c04a"),
    # core.redis_pools: redis-py's pools (`pool`, `_connections`, a connection's `_sock`, `_lock`)
    "redis.connection:BlockingConnectionPool.get_connection": ("core/redis_pools.py", "50092967332f"),
    "redis.connection:BlockingConnectionPool.reset": ("core/redis_pools.py", "a24a202b3fa4"),
    "redis.asyncio.connection:ConnectionPool.get_connection": ("core/redis_pools.py", "4876bc7de473"),
    "redis.asyncio.connection:ConnectionPool.get_available_connection": ("core/redis_pools.py", "5b55e7823cc6"),
    "redis.asyncio.connection:ConnectionPool.ensure_connection": ("core/redis_pools.py", "177f413266a9"),
    # core.schema: drf-spectacular's AutoSchema methods it extends
    "drf_spectacular.openapi:AutoSchema._get_paginator": ("core/schema.py", "e833f7f52069"),
    "drf_spectacular.openapi:AutoSchema._insert_field_validators": ("core/schema.py", "3bd09e2f622e"),
    "drf_spectacular.openapi:AutoSchema._get_response_bodies": ("core/schema.py", "06e9b80fe611"),
    "drf_spectacular.openapi:AutoSchema._get_request_body": ("core/schema.py", "0d33ca17af0e"),
    # devices.providers points firebase_admin's private messaging service at FCM_ENDPOINT
    "firebase_admin.messaging:_MessagingService.__init__": ("devices/providers.py", "43c0e5dd1cd6"),
    # core.edge recognises a granian worker by its `granian._signals` module, and runs atexit's hooks
    "granian._signals:set_loop_signals": ("core/edge.py", "ce78d76020b2"),
    "atexit:_run_exitfuncs": ("core/edge.py", "builtin"),
    # the root conftest's `_fast_flush` replaces the TRUNCATE of a transactional test's flush with DELETEs
    "django.db.backends.postgresql.operations:DatabaseOperations.sql_flush": ("conftest.py", "358e775d8228"),
    # ... and has the flush command's call of its module global `emit_post_migrate_signal` do nothing
    "django.core.management.commands.flush:Command.handle": ("conftest.py", "48df92aa0433"),
    # core.tests.tiers reads pytest's record of a test's fixtures (`item._fixtureinfo`)
    "_pytest.python:Function.__init__": ("core/tests/tiers.py", "6a3e108b91db"),
}


def resolve(target: str) -> Any:
    module, _, name = target.partition(":")
    found: Any = importlib.import_module(module)
    for part in name.split("."):
        found = inspect.getattr_static(found, part) if inspect.isclass(found) else getattr(found, part)
    if isinstance(found, property):
        return found.fget
    if isinstance(found, functools.cached_property | django_cached_property):
        return found.func
    return found


def digest(target: str) -> str:
    found = resolve(target)
    if inspect.isbuiltin(found):
        return "builtin"
    return hashlib.sha256(inspect.getsource(found).encode()).hexdigest()[:12]


@pytest.mark.parametrize("target", sorted(PINNED))
def test_the_library_code_we_rely_on_is_unchanged(target):
    reread, pinned = PINNED[target]
    try:
        found = digest(target)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"{target} is gone ({exc}): re-read {reread} against the new version")
    assert found == pinned, (
        f"{target} changed (sha256 {found}, pinned {pinned}): re-read {reread} against the new version, "
        "then update PINNED in core/tests/test_tripwires.py"
    )


def test_realtime_publishes_to_the_channel_the_pubsub_layer_subscribes_to(settings):
    """core.realtime publishes events straight to Redis under the pub/sub layer's group channel: the
    name comes from channels_redis' own method, on a layer built as the server's are."""
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    layer = RedisPubSubLoopLayer(**config)
    assert realtime._group_channel("user.7") == layer._get_group_channel_name("user.7"), "re-read core/realtime.py"
    assert realtime._group_channel("user.7").startswith(config.get("prefix", "asgi")), "re-read core/realtime.py"


@pytest.mark.django_db(transaction=True)
async def test_an_async_pools_idle_connections_are_its_deque(settings):
    """core.async_db closes an orphaned pool's idle connections by emptying `pool._pool`."""
    pool = async_db._new_pool()
    await pool.open(wait=True)
    try:
        assert isinstance(pool._pool, collections.deque), "re-read core/async_db.py (_discard)"
        assert len(pool._pool) >= 1 and all(hasattr(conn, "pgconn") for conn in pool._pool), "re-read core/async_db.py"
    finally:
        await pool.close()


@pytest.mark.django_db(transaction=True)
def test_a_pooled_connection_names_its_pool_and_django_keeps_pools_by_alias():
    """core/postgresql/base.py reads a pooled connection's `_pool`; it and core/outages.py hold
    Django's `_connection_pools` (the pools by alias)."""
    assert isinstance(DatabaseWrapper._connection_pools, dict), "re-read core/postgresql/base.py, core/outages.py"
    assert connection.outage.pools is DatabaseWrapper._connection_pools, "re-read core/postgresql/base.py"
    pool = connection.pool
    if pool is None:
        pytest.skip("the test settings run without a pool")
    with pool.connection() as pooled:
        assert pooled._pool is pool, "re-read core/postgresql/base.py (get_new_connection)"


def test_autobahn_colours_its_log_arguments_only_with_click_available():
    """crm_project.asgi turns `autobahn.util._HAS_CLICK` off: every frame's debug arguments went through click."""
    assert autobahn.util._HAS_CLICK is False, "re-read crm_project/asgi.py"
    assert autobahn.util.hl("frame") == "frame", "re-read crm_project/asgi.py"


def test_twisted_never_parses_a_post_body_daphne_serves():
    """crm_project.asgi turns off Twisted's form parsing per request (a property ignoring the assignment)."""
    assert isinstance(inspect.getattr_static(WebRequest, "_parsePOSTFormSubmission"), property), (
        "re-read crm_project/asgi.py"
    )
    assert "self._parsePOSTFormSubmission" in inspect.getsource(resolve("twisted.web.http:Request.requestReceived")), (
        "re-read crm_project/asgi.py"
    )


def test_the_consumer_dispatches_as_channels_does_without_closing_connections():
    """messaging.consumers' `dispatch` is Channels' own minus `aclose_old_connections`."""
    assert ChatConsumer.dispatch is not AsyncConsumer.dispatch
    assert "get_handler_name" in inspect.getsource(AsyncConsumer.dispatch), "re-read messaging/consumers.py"
    assert get_handler_name({"type": "session.revoke"}) == "session_revoke", "re-read messaging/consumers.py"


def test_firebase_reads_its_fcm_address_from_the_class_attribute_we_set():
    assert "_MessagingService.FCM_URL" in inspect.getsource(firebase_messaging._MessagingService.__init__), (
        "re-read devices/providers.py"
    )


def test_granian_and_atexit_names_core_edge_uses():
    importlib.import_module("granian._signals")  # core.edge: "granian._signals" in sys.modules
    assert callable(atexit._run_exitfuncs), "re-read core/edge.py (run_exit_hooks)"


def test_pytest_records_a_tests_fixtures_where_the_tiers_read_them(request, settings):
    """core.tests.tiers follows each fixture's function through `item._fixtureinfo.name2fixturedefs`."""
    definitions = request.node._fixtureinfo.name2fixturedefs.get("settings")
    assert definitions and all(callable(each.func) for each in definitions), "re-read core/tests/tiers.py"
