"""The one way a write reaches sockets, always after the transaction commits.

Two kinds of group on the channel layer:
- `members_group(conversation_id)`: followed, for every socket of every participant (all of a
  user's conversations, from connect on) and for read-only monitors who joined, by the hub of
  the server process the socket lives in (`messaging/socket/hub.py`). A conversation
  event is published here **once**, whatever the number of members, as a ready-made JSON frame;
  it names the users it is for, so a socket that has not yet heard of a removal still drops it.
- `user_group(user_id)`: events for one person (notifications, presence, their own membership
  changes, delivery receipts).
`conversation_group(conversation_id)` carries ephemeral traffic (typing, upload progress) to
sockets that joined the conversation. The socket's own sends publish from the event loop
(`apublish`), and the process's own subscriber of the group gets them at once (`deliver_here`),
not through Redis and back.

A members group on one Redis is not a Redis subscription: each process's hub puts its channel in
the group's set of followers (`follow`), and an event is published by a script to each follower's
channel (`FOLLOWERS`), except the publishing process's own when it delivered it here: a process no
longer reads its own events back from Redis to drop them (13% of a worker's time per message,
docs/performance.md). A follower is in the set before its sockets say `ready` (the script runs after
the SADD), so nothing that commits later misses it; one whose channel no longer listens is removed by
the script; hubs add themselves again every few seconds (a restarted Redis has no sets).

A channel-layer failure is logged, never raised: the
committed write stands and clients catch up with `after=<seq>`. While Redis is down
(`core.outages`) events are dropped without trying it, and logged once a minute, not once each.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeGuard

import orjson
import redis
import redis.asyncio as aioredis
from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer
from django.conf import settings
from django.db import transaction
from redis.backoff import NoBackoff
from redis.retry import Retry

from core import redis_pools
from core.loops import PerLoop
from core.outages import REDIS_ERRORS, redis_outage

logger = logging.getLogger("crm.socket")

EVENT_TYPE = "realtime.event"  # handled by the consumer's `realtime_event` method
CONVERSATION_EVENT_TYPE = "conversation.event"  # handled by the consumer's `conversation_event` method
SESSION_REVOKE_TYPE = "session.revoke"  # handled by the consumer's `session_revoke`: closes the socket
RIGHTS_CHANGED_TYPE = "session.rights_changed"  # the consumer's `session_rights_changed`: closes it to reconnect


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


MEMBERS_PREFIX = "members."


def members_group(conversation_id: int) -> str:
    return f"{MEMBERS_PREFIX}{conversation_id}"


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def frame(event: str, data: dict[str, Any]) -> str:
    """The JSON text of a server push; made once per event, not once per socket (orjson: compact,
    UTF-8 as is; a third of the stdlib encoder's time for a message event)."""
    return orjson.dumps({"event": event, "data": data}).decode()


def conversation_message(
    conversation_id: int,
    user_ids: Iterable[int],
    event: str,
    data: dict[str, Any],
    *,
    monitors: bool = False,
    seq: int | None = None,
    sender_id: int | None = None,
) -> dict[str, Any]:
    """A conversation event as it travels the channel layer (see the consumer's `conversation_event`)."""
    return {
        "type": CONVERSATION_EVENT_TYPE,
        "conversation_id": conversation_id,
        "user_ids": sorted(set(user_ids)),
        "monitors": monitors,
        "event": event,
        "seq": seq,
        "sender_id": sender_id,
        "frame": frame(event, data),
    }


_redis_client: redis.Redis | None = None
_redis_client_lock = threading.Lock()


def sync_redis() -> redis.Redis:
    """The one thread-safe client of this process for sync code (the `publish` pool): events published
    from request and database threads, and the short commands other threads send (the push
    scheduler's flush, job counts, who has a socket). No client of its own anywhere else: each would be a
    pool outside REDIS_MAX_CONNECTIONS."""
    global _redis_client
    if _redis_client is not None:
        return _redis_client
    with _redis_client_lock:  # one pool, however many threads publish first at once
        if _redis_client is not None:
            return _redis_client
        # No retries: redis-py's default (3, with back-off of seconds) would hold the committed request.
        pool = redis_pools.sync_pool(
            "publish",
            settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0],
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=settings.REDIS_TIMEOUT,
            socket_timeout=settings.REDIS_TIMEOUT,
        )
        _redis_client = redis.Redis(connection_pool=pool)
    return _redis_client


def _straight_to_redis(layer: BaseChannelLayer | None) -> TypeGuard[RedisPubSubChannelLayer]:
    """The pub/sub layer on one Redis: events are published to Redis directly, under the layer's
    own channel names (`_group_channel`), not through its `group_send`."""
    return (
        isinstance(layer, RedisPubSubChannelLayer) and len(settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]) == 1
    )


@functools.cache
def _layer_naming(prefix: str) -> RedisPubSubLoopLayer:
    """A loop layer of channels_redis for its naming only (it connects to nothing until used, and
    is never used here)."""
    return RedisPubSubLoopLayer(prefix=prefix)


def _group_channel(group: str) -> str:
    """The pub/sub layer's Redis channel for a group, named by channels_redis' own (private) method:
    core/tests/test_tripwires.py pins that the layer's subscribers listen there."""
    naming = _layer_naming(settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi"))
    return naming._get_group_channel_name(group)  # type: ignore[no-any-return]  # (channels_redis is untyped)


# KEYS[1]: a members group's followers, "<process tag> <channel>" each. ARGV: the publishing process's
# tag when it delivered the event itself ("" otherwise), the serialized event. Publishes the event to
# every other follower's channel and forgets followers no one listens on. Returns how many got it.
FOLLOWERS = """
local reached = 0
for _, follower in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local tag, channel = string.match(follower, '^(%S+) (.+)$')
  if tag ~= ARGV[1] then
    if redis.call('PUBLISH', channel, ARGV[2]) == 0 then
      redis.call('SREM', KEYS[1], follower)
    else
      reached = reached + 1
    end
  end
end
return reached
"""


# A members group's set of followers goes an hour after its last follower wrote its place (hubs write
# theirs every few seconds): the set of a conversation no process follows any more does not stay.
FOLLOWERS_TTL_SECONDS = 3600


def followers_key(group: str) -> str:
    """The Redis set of the hubs following a members group (the installation's prefix included)."""
    return f"{_group_channel(group)}:followers"


def _follower(channel: str) -> str:
    return f"{PROCESS_TAG} {channel}"


def _publish_to(pipe: Any, group: str, data: bytes, origin: str = "") -> None:
    """One publish on a pipeline: a members group's through its followers (`FOLLOWERS`), any other
    group's to its Redis channel."""
    if group.startswith(MEMBERS_PREFIX):
        pipe.eval(FOLLOWERS, 1, followers_key(group), origin, data)
    else:
        pipe.publish(_group_channel(group), data)


async def follow(groups: Iterable[str], channel: str) -> None:
    """This process's hub `channel` follows these members groups: in their sets of followers (one
    Redis), or subscribed to them on the channel layer (several)."""
    layer = get_channel_layer()
    if _straight_to_redis(layer):
        await _publisher().place("sadd", [followers_key(group) for group in groups], _follower(channel))
    else:
        assert layer is not None
        for group in groups:
            await layer.group_add(group, channel)


async def unfollow(group: str, channel: str) -> None:
    layer = get_channel_layer()
    if _straight_to_redis(layer):
        await _publisher().place("srem", [followers_key(group)], _follower(channel))
    else:
        assert layer is not None
        await layer.group_discard(group, channel)


def _publish(sends: list[tuple[str, dict[str, Any]]]) -> None:
    if redis_outage.skip():
        redis_outage.failed("live events dropped", skipped=True)
        return
    layer = get_channel_layer()
    try:
        assert layer is not None  # CHANNEL_LAYERS always names one
        if _straight_to_redis(layer):
            # Straight to Redis from the calling thread, in one round trip: no hop onto an event
            # loop (a socket's worker thread, a sync view, a command).
            pipe = sync_redis().pipeline(transaction=False)
            for group, message in sends:
                _publish_to(pipe, group, layer.serialize(message))
            pipe.execute()
        else:
            async_to_sync(_send_all)(layer, sends)
    except REDIS_ERRORS as exc:  # the write is committed; clients recover with after=<seq>
        redis_outage.failed("live events dropped", exc)
    except Exception:
        logger.warning("realtime send failed", extra={"groups": len(sends)}, exc_info=True)
    else:
        redis_outage.recovered()


async def _send_all(layer: BaseChannelLayer, sends: list[tuple[str, dict[str, Any]]]) -> None:
    for group, message in sends:
        await layer.group_send(group, message)


def publish_on_commit(sends: list[tuple[str, dict[str, Any]]]) -> None:
    if sends:
        transaction.on_commit(lambda: _publish(sends))


def broadcast_to_members(
    conversation_id: int,
    user_ids: Iterable[int],
    event: str,
    data: dict[str, Any],
    *,
    monitors: bool = False,
    seq: int | None = None,
    sender_id: int | None = None,
) -> None:
    """Push `event` to every socket of these users in this conversation (and, with `monitors`, to
    read-only monitors of it): one publish for the whole conversation, after commit."""
    message = conversation_message(
        conversation_id, user_ids, event, data, monitors=monitors, seq=seq, sender_id=sender_id
    )
    publish_on_commit([(members_group(conversation_id), message)])


def broadcast_to_users(user_ids: Iterable[int], event: str, data: dict[str, Any]) -> None:
    """Push `event` to every socket of these users once the current transaction commits."""
    message = {"type": EVENT_TYPE, "event": event, "data": data}
    publish_on_commit([(user_group(user_id), message) for user_id in sorted(set(user_ids))])


def disconnect_user(user_id: int) -> None:
    """Close every socket of this user (deactivation), after the transaction commits."""
    publish_on_commit([(user_group(user_id), {"type": SESSION_REVOKE_TYPE})])


def rights_changed(user_id: int) -> None:
    """This user's role or office changed: once the transaction commits, their open sockets stop
    what they may no longer receive and close, so that the client reconnects with its new rights.
    Pushed by the write, so a socket never re-checks rights per frame."""
    publish_on_commit([(user_group(user_id), {"type": RIGHTS_CHANGED_TYPE})])


# --- publishing from the event loop (the socket's sends) ------------------------------------------

PROCESS_TAG = uuid.uuid4().hex  # "origin" of what this process handed to its own subscribers itself

LocalHandler = Callable[[dict[str, Any]], Awaitable[None]]
_local_handlers: Callable[[], dict[str, LocalHandler]] = PerLoop[dict[str, LocalHandler]](dict).get


def deliver_here(group: str, handler: LocalHandler) -> None:
    """`group`'s events published on this event loop (`apublish`) go to `handler` directly; it must
    drop the copy that comes back from Redis (its "origin" is PROCESS_TAG)."""
    _local_handlers()[group] = handler


def stop_delivering_here(group: str) -> None:
    _local_handlers().pop(group, None)


async def apublish(group: str, message: dict[str, Any]) -> None:
    """Publish `message` to `group` from the event loop, once the write is committed: first to this
    process's own subscriber of the group, if any (no Redis round trip, and it works while Redis is
    away), then to the other processes through Redis, without waiting for it (`_LoopPublisher`).
    Failures are logged, never raised."""
    handler = _local_handlers().get(group)
    origin = ""
    if handler is not None:
        origin = PROCESS_TAG
        message = {**message, "origin": origin}
        try:
            await handler(message)
        except Exception:
            logger.exception("local delivery failed")
    layer = get_channel_layer()
    if _straight_to_redis(layer):
        _publisher().add(group, layer.serialize(message), origin)
    elif layer is not None:
        try:
            await layer.group_send(group, message)
        except Exception as exc:
            if isinstance(exc, REDIS_ERRORS):
                redis_outage.failed("live events dropped", exc)
            else:
                logger.warning("realtime send failed", extra={"groups": 1}, exc_info=True)


class _LoopPublisher:
    """This event loop's publishes, written to Redis in order on one connection at a time, and
    batched: what is published while a write is on its way goes out in the next one (one pipeline),
    under the pub/sub layer's own channel names (`_group_channel`) or to a members group's followers.
    The hub's places among those followers (`follow`, `unfollow`) ride in the same batches: a
    thousand sockets opening at once are a few pipelines, not a thousand waits for the connection."""

    def __init__(self) -> None:
        # No retries, as for `sync_redis`: an outage drops events (clients catch up), never holds them.
        # One batch at a time: its pool has one connection (`core.redis_pools`).
        pool = redis_pools.async_pool(
            "loop_publish",
            settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0],
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=settings.REDIS_TIMEOUT,
            socket_timeout=settings.REDIS_TIMEOUT,
        )
        self.client = aioredis.Redis(connection_pool=pool)
        self.pending: list[tuple[str, bytes, str]] = []
        # ("sadd" or "srem", the followers' keys, the follower, done once written): awaited by the hub
        self.places: list[tuple[str, list[str], str, asyncio.Future[None]]] = []
        self.task: asyncio.Task[None] | None = None

    def add(self, group: str, data: bytes, origin: str) -> None:
        self.pending.append((group, data, origin))
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._write())

    def place(self, command: str, keys: list[str], follower: str) -> asyncio.Future[None]:
        written = asyncio.get_running_loop().create_future()
        self.places.append((command, keys, follower, written))
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._write())
        return written

    async def _write(self) -> None:
        try:
            while self.pending or self.places:
                batch, self.pending = self.pending, []
                places, self.places = self.places, []
                if redis_outage.skip():
                    redis_outage.failed("live events dropped", skipped=True)
                    _settle(places, redis.ConnectionError("Redis is unreachable"))
                    continue
                try:
                    pipe = self.client.pipeline(transaction=False)
                    for group, data, origin in batch:
                        _publish_to(pipe, group, data, origin)
                    for command, keys, follower, _ in places:
                        for key in keys:
                            getattr(pipe, command)(key, follower)
                            if command == "sadd":
                                pipe.expire(key, FOLLOWERS_TTL_SECONDS)
                    await pipe.execute()
                except REDIS_ERRORS as exc:  # committed writes; clients recover with after=<seq>
                    redis_outage.failed("live events dropped", exc)
                    _settle(places, exc)
                except Exception as exc:
                    logger.warning("realtime send failed", extra={"groups": len(batch)}, exc_info=True)
                    _settle(places, exc)
                else:
                    redis_outage.recovered()
                    _settle(places)
        finally:
            self.task = None


def _settle(places: list[tuple[str, list[str], str, asyncio.Future[None]]], error: Exception | None = None) -> None:
    for *_, written in places:
        if written.done():  # (its waiter was cancelled)
            continue
        if error is None:
            written.set_result(None)
        else:
            written.set_exception(error)


_publisher = PerLoop(_LoopPublisher).get
