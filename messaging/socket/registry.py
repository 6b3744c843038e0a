"""Socket state shared by every server process, kept in Redis.

- `processes`: sorted set of the live server processes (one per event loop), scored by when each
  is declared dead unless its beat (every NODE_BEAT_SECONDS) renews it. A process stopped by
  SIGTERM marks itself dead on the way out; one killed outright is dead within NODE_TTL_MS.
- `process:<id>`: the sockets a process holds, so the first live process to notice it is dead
  removes them (`node_beat`), and their users go offline if that was their last socket.
- `sockets:<user>`: sorted set of that user's open sockets (`<process> <channel>`), scored by when
  each expires unless its own heartbeat renews it. The connection cap counts the ones whose
  process is alive, so a crashed process never locks its users out.
- `presence:<user>`: the chosen status (online / away / busy) while connected.
- `rate:<user>:<second>`: frames per user per second, across processes (`messaging/socket/rates.py`).
- `upload:<id>`: a pending upload announced by `file_upload_start`.
- `stats:sockets`, `stats:conversations`: totals for `/socket-stats`.

Every key starts with the installation's REDIS_NAMESPACE. The scripts build key names from it,
so this needs one Redis server (or Sentinel), not Redis Cluster.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

import redis.asyncio as aioredis
from django.conf import settings
from django.core.cache import cache
from redis.asyncio.client import Pipeline

from core import realtime, redis_pools
from core.cache import RedisCache
from core.loops import PerLoop
from core.outages import REDIS_ERRORS, redis_outage
from messaging.socket import registry_scripts

logger = logging.getLogger("crm.socket")

NODE_BEAT_SECONDS = 1.0
NODE_TTL_MS = 5000  # a process silent this long is dead (a beat is 1 s: tolerates 4 s of stall)


class AsyncRedis(Protocol):
    """The commands used here, as redis.asyncio runs them: redis-py types its asyncio client with
    its sync one's signatures (results "Awaitable[T] | T", arguments str only)."""

    async def eval(self, script: str, numkeys: int, *keys_and_args: str | int) -> Any: ...
    async def get(self, name: str) -> str | None: ...
    async def set(self, name: str, value: str, *, ex: int | None = None, px: int | None = None) -> Any: ...
    async def delete(self, *names: str) -> int: ...
    async def zadd(self, name: str, mapping: Mapping[str, int | float]) -> int: ...
    async def zcount(self, name: str, min: int | str, max: int | str) -> int: ...
    async def zremrangebyscore(self, name: str, min: int | str, max: int | str) -> int: ...
    async def zrange(self, name: str, start: int, end: int) -> list[str]: ...
    async def zcard(self, name: str) -> int: ...
    def pipeline(self, transaction: bool = True) -> Pipeline: ...


def _new_client() -> AsyncRedis:
    pool = redis_pools.async_pool(
        "registry",
        settings.REDIS_URL,
        decode_responses=True,
        socket_connect_timeout=settings.REDIS_TIMEOUT,
        socket_timeout=settings.REDIS_TIMEOUT,
    )
    return cast(AsyncRedis, aioredis.Redis(connection_pool=pool))


_client = PerLoop(_new_client).get


def redis_client() -> AsyncRedis:
    """One client per event loop (daphne has one; tests make one per test), on the loop's `registry`
    pool: at most its share of REDIS_MAX_CONNECTIONS; a burst waits for a free connection."""
    return _client()


def key(*parts: object) -> str:
    """The name of one key of the socket state (the module's docstring lists them)."""
    return ":".join([settings.REDIS_NAMESPACE, "ws", *map(str, parts)])


def _ttl_ms() -> int:
    return settings.SOCKET_PING_TIMEOUT * 2


def _now_ms() -> int:
    return int(time.time() * 1000)


class _Node:
    """This event loop's sockets, as the registry knows them (one loop per server process)."""

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex[:16]
        self.sockets: dict[str, int] = {}  # channel → user id
        _nodes.append(self.id)


_nodes: list[str] = []
_node = PerLoop(_Node).get


@atexit.register
def _mark_nodes_dead() -> None:
    """A process stopping cleanly (SIGTERM) is dead at once: the next beat of any other process
    clears its sockets, and its users' reconnections are not counted against them meanwhile."""
    if not _nodes:
        return
    try:  # on the process's cache pool (idle by now): no connection of its own
        cast(RedisCache, cache).redis(write=True).zadd(key("processes"), dict.fromkeys(_nodes, 0))
    except Exception:  # Redis gone too: the process simply expires
        pass


def _member(node: _Node, channel: str) -> str:
    return f"{node.id} {channel}"


class _Calls:
    """This event loop's registry calls of one kind (sockets opening, sockets closing), sent to Redis
    together: the calls made while a write is on its way go in the next one, one pipeline on one
    connection. A thousand sockets opening at once cost a few round trips, not a connection each:
    on a capped pool (`core.redis_pools`) with a busy event loop, a connection held per call served
    a call or two per loop turn, and a reconnect storm's last sockets waited out the pool's timeout."""

    def __init__(self) -> None:
        self.pending: list[tuple[Callable[[Pipeline], object], int, asyncio.Future[list[Any]]]] = []
        self.task: asyncio.Task[None] | None = None
        self.writes = 0  # pipelines sent (tests count round trips)

    async def call(self, queue: Callable[[Pipeline], object], commands: int) -> list[Any]:
        """Queue `commands` pipeline commands (`queue(pipe)`); their answers, once written."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[list[Any]] = loop.create_future()
        self.pending.append((queue, commands, answer))
        if self.task is None:
            self.task = loop.create_task(self._write())
        return await answer

    async def _write(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending, []
                pipe = redis_client().pipeline(transaction=False)
                for queue, _, _ in batch:
                    queue(pipe)
                self.writes += 1
                try:
                    results = await pipe.execute(raise_on_error=False)
                except Exception as exc:  # Redis unreachable, no connection came free: every caller's
                    for _, _, answer in batch:
                        if not answer.done():
                            answer.set_exception(exc)
                    continue
                start = 0
                for _, commands, answer in batch:
                    mine, start = results[start : start + commands], start + commands
                    error = next((result for result in mine if isinstance(result, Exception)), None)
                    if answer.done():  # the caller went away (a socket's handshake cancelled)
                        continue
                    if error is not None:
                        answer.set_exception(error)
                    else:
                        answer.set_result(mine)
        finally:
            self.task = None


_opens = PerLoop(_Calls).get
_closes = PerLoop(_Calls).get


async def connection_open(user_id: int, channel: str) -> int | None:
    """Register a socket; None when the user already has the most sockets allowed. Otherwise the
    user's live sockets, this one included."""
    node, now = _node(), _now_ms()
    keys_and_args = [
        key("sockets", user_id),
        key("stats", "sockets"),
        key("processes"),
        key("process", node.id),
        now,
        now + _ttl_ms(),
        settings.SOCKET_MAX_CONNECTIONS_PER_USER,
        _member(node, channel),
        _ttl_ms() * 2,
        f"{user_id}|{channel}",
        node.id,
        now + NODE_TTL_MS,
    ]
    (count,) = await _opens().call(lambda pipe: pipe.eval(registry_scripts.CONNECT, 4, *map(str, keys_and_args)), 1)
    if count == -1:
        return None
    node.sockets[channel] = user_id
    return int(count)


RENEW_BATCH_SECONDS = 0.2  # renewals asked for within this long reach Redis in one pipeline


class _Renewals:
    """This event loop's socket renewals on their way to Redis (`connection_renew`)."""

    def __init__(self) -> None:
        self.pending: dict[str, int] = {}  # channel → user id, for the next write
        self.writing: dict[str, int] = {}  # the write in flight
        self.written: asyncio.Future[None] | None = None  # done when that write is
        self.task: asyncio.Task[None] | None = None
        self.writes = 0  # pipelines sent (tests count round trips)


_renewals = PerLoop(_Renewals).get


async def connection_renew(user_id: int, channel: str) -> None:
    """Push this socket's expiry forward (a ping, the socket's heartbeat), without waiting: the
    renewals of every socket of the process asked for within RENEW_BATCH_SECONDS are written
    together, one pipeline on one connection, so a thousand sockets pinging at the same moment (as
    they do after a reconnect storm) cost one round trip, not a connection and a transaction each.
    A renewal that fails (Redis away) is written with the next batch; an entry outlives a few."""
    renewals = _renewals()
    renewals.pending[channel] = user_id
    if renewals.task is None:
        renewals.task = asyncio.get_running_loop().create_task(_write_renewals(renewals))


async def _write_renewals(renewals: _Renewals) -> None:
    await asyncio.sleep(RENEW_BATCH_SECONDS)
    if not renewals.pending:  # every socket of the batch closed meanwhile
        renewals.task = None
        return
    node, expiry = _node(), _now_ms() + _ttl_ms()
    batch, renewals.pending = renewals.pending, {}
    renewals.writing, renewals.written = batch, asyncio.get_running_loop().create_future()
    written = False
    try:
        members: dict[int, dict[str, int]] = {}  # user → {their sockets here: expiry}
        for channel, user_id in batch.items():
            members.setdefault(user_id, {})[_member(node, channel)] = expiry
        pipe = redis_client().pipeline(transaction=False)
        for user_id, sockets in members.items():
            pipe.zadd(key("sockets", user_id), sockets)
            pipe.pexpire(key("sockets", user_id), _ttl_ms() * 2)
        pipe.zadd(key("stats", "sockets"), {f"{user_id}|{channel}": expiry for channel, user_id in batch.items()})
        renewals.writes += 1
        await pipe.execute()
        written = True
    except Exception as exc:
        for channel, user_id in batch.items():  # the sockets still open: with the next batch
            if channel in node.sockets:
                renewals.pending.setdefault(channel, user_id)
        if isinstance(exc, REDIS_ERRORS):
            redis_outage.failed("socket renewals wait for the next batch", exc)
        else:
            logger.exception("socket renewals failed")
    finally:
        renewals.writing = {}
        renewals.written.set_result(None)
        renewals.task = None
        # Renewals asked for during the write go in the next batch; after a failure, the next ask starts it.
        if written and renewals.pending:
            renewals.task = asyncio.get_running_loop().create_task(_write_renewals(renewals))


async def connection_close(user_id: int, channel: str) -> int:
    """Forget a socket; returns how many live sockets the user still has."""
    node = _node()
    node.sockets.pop(channel, None)
    renewals = _renewals()
    renewals.pending.pop(channel, None)
    if channel in renewals.writing and renewals.written is not None:
        await asyncio.shield(renewals.written)  # its removal must reach Redis after its renewal

    def queue(pipe: Pipeline) -> None:
        pipe.zrem(key("sockets", user_id), _member(node, channel))
        pipe.zrem(key("stats", "sockets"), f"{user_id}|{channel}")
        pipe.srem(key("process", node.id), f"{user_id}|{channel}")
        pipe.zcount(key("sockets", user_id), _now_ms(), "+inf")

    return int((await _closes().call(queue, 4))[3])


async def node_beat() -> list[int]:
    """Keep this process alive in the registry and clear dead ones. Returns the users whose last
    socket was on a dead process (they are offline now)."""
    node, now = _node(), _now_ms()
    client = redis_client()
    if await client.zadd(key("processes"), {node.id: now + NODE_TTL_MS}) and node.sockets:
        # Declared dead while alive (a stall longer than NODE_TTL_MS) and cleared: register again.
        logger.warning(
            "socket registry lost this process; registering its sockets again", extra={"sockets": len(node.sockets)}
        )
        pipe = client.pipeline()
        for channel, user_id in node.sockets.items():
            pipe.zadd(key("sockets", user_id), {_member(node, channel): now + _ttl_ms()})
            pipe.zadd(key("stats", "sockets"), {f"{user_id}|{channel}": now + _ttl_ms()})
            pipe.sadd(key("process", node.id), f"{user_id}|{channel}")
        await pipe.execute()
    reaped = await client.eval(registry_scripts.REAP, 1, key("processes"), now, key(""))
    touched = sorted({int(user) for user in reaped})
    if not touched:
        return []
    pipe = client.pipeline(transaction=False)  # one round trip, however many users the dead process had
    for user_id in touched:
        pipe.zcount(key("sockets", user_id), now, "+inf")
    counts = await pipe.execute()
    return [user_id for user_id, count in zip(touched, counts, strict=True) if int(count) == 0]


async def live_socket_count(user_id: int) -> int:
    return int(await redis_client().zcount(key("sockets", user_id), _now_ms(), "+inf"))


async def presence_set(user_id: int, status: str | None) -> None:
    name = key("presence", user_id)
    if status is None:
        await redis_client().delete(name)
    else:
        await redis_client().set(name, status, px=_ttl_ms() * 2)


async def presence_of(user_ids: list[int]) -> dict[int, str]:
    """online / away / busy for users with a live socket anywhere; offline otherwise."""
    if not user_ids:
        return {}
    now = _now_ms()
    pipe = redis_client().pipeline()
    for user_id in user_ids:
        pipe.zcount(key("sockets", user_id), now, "+inf")
        pipe.get(key("presence", user_id))
    answers = await pipe.execute()
    result = {}
    for index, user_id in enumerate(user_ids):
        live, status = answers[2 * index], answers[2 * index + 1]
        result[user_id] = (status or "online") if live else "offline"
    return result


async def upload_start(user_id: int, conversation_id: int, intent: dict[str, Any]) -> str:
    upload_id = uuid.uuid4().hex
    payload = json.dumps({"user_id": user_id, "conversation_id": conversation_id, **intent})
    await redis_client().set(key("upload", upload_id), payload, ex=3600)
    return upload_id


async def upload_get(upload_id: str) -> dict[str, Any] | None:
    raw = await redis_client().get(key("upload", str(upload_id)[:64]))
    return json.loads(raw) if raw else None


async def upload_finish(upload_id: str) -> None:
    await redis_client().delete(key("upload", upload_id))


async def conversation_touch(conversation_id: int) -> None:
    await redis_client().zadd(key("stats", "conversations"), {str(conversation_id): _now_ms()})


async def stats() -> dict[str, int]:
    client = redis_client()
    now = _now_ms()
    await client.zremrangebyscore(key("stats", "sockets"), "-inf", now)
    await client.zremrangebyscore(key("stats", "conversations"), "-inf", now - 5 * 60 * 1000)
    sockets = await client.zrange(key("stats", "sockets"), 0, -1)
    return {
        "connected_users": len({member.split("|", 1)[0] for member in sockets}),
        "sockets": len(sockets),
        "active_conversations": int(await client.zcard(key("stats", "conversations"))),
    }


# --- read from sync code (the background jobs deciding who is offline) ------------------------------


def users_with_sockets(user_ids: list[int]) -> set[int]:
    """Which of these users have a live socket on any server process: one pipelined round trip."""
    if not user_ids:
        return set()
    now = _now_ms()
    pipe = realtime.sync_redis().pipeline(transaction=False)
    for user_id in user_ids:
        pipe.zcount(key("sockets", user_id), now, "+inf")
    return {user_id for user_id, live in zip(user_ids, pipe.execute(), strict=True) if live}
