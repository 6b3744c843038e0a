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
- `rate:<user>:<second>`: frames per user per second, across processes.
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
from collections.abc import Mapping
from typing import Any, Protocol, cast

import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.client import Pipeline

from core.loops import PerLoop

logger = logging.getLogger("crm.socket")

NODE_BEAT_SECONDS = 1.0
NODE_TTL_MS = 5000  # a process silent this long is dead (a beat is 1 s: tolerates 4 s of stall)

# KEYS: sockets:<user>, stats:sockets, processes, process:<node>
# ARGV: now, socket expiry, cap, "<node> <channel>", sockets key ttl, "<user>|<channel>", node, node expiry
_CONNECT = """
local now = tonumber(ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[8], ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local live = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local alive = tonumber(redis.call('ZSCORE', KEYS[3], string.match(member, '^(%S+)')) or '0')
  if alive > now then live = live + 1 end
end
if live >= tonumber(ARGV[3]) then return -1 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[6])
redis.call('SADD', KEYS[4], ARGV[6])
return live + 1
"""

# KEYS: processes. ARGV: now, key prefix ("<namespace>:ws:"). Claims and clears dead processes (one
# caller wins each: the script is atomic); returns the users who had sockets on them.
_REAP = """
local users = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 20)) do
  redis.call('ZREM', KEYS[1], node)
  local held = ARGV[2] .. 'process:' .. node
  for _, member in ipairs(redis.call('SMEMBERS', held)) do
    local user, channel = string.match(member, '^([^|]+)|(.+)$')
    redis.call('ZREM', ARGV[2] .. 'sockets:' .. user, node .. ' ' .. channel)
    redis.call('ZREM', ARGV[2] .. 'stats:sockets', member)
    users[#users + 1] = user
  end
  redis.call('DEL', held)
end
return users
"""


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
    return cast(AsyncRedis, aioredis.Redis.from_url(settings.REDIS_URL, decode_responses=True))


_client = PerLoop(_new_client).get


def redis_client() -> AsyncRedis:
    """One client per event loop (daphne has one; tests make one per test)."""
    return _client()


def _key(*parts: object) -> str:
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
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        client.zadd(_key("processes"), dict.fromkeys(_nodes, 0))
        client.close()
    except Exception:  # Redis gone too: the process simply expires
        pass


def _member(node: _Node, channel: str) -> str:
    return f"{node.id} {channel}"


async def connection_open(user_id: int, channel: str) -> int | None:
    """Register a socket; None when the user already has the most sockets allowed. Otherwise the
    user's live sockets, this one included."""
    node, now = _node(), _now_ms()
    count = await redis_client().eval(
        _CONNECT,
        4,
        _key("sockets", user_id),
        _key("stats", "sockets"),
        _key("processes"),
        _key("process", node.id),
        now,
        now + _ttl_ms(),
        settings.SOCKET_MAX_CONNECTIONS_PER_USER,
        _member(node, channel),
        _ttl_ms() * 2,
        f"{user_id}|{channel}",
        node.id,
        now + NODE_TTL_MS,
    )
    if count == -1:
        return None
    node.sockets[channel] = user_id
    return int(count)


async def connection_renew(user_id: int, channel: str) -> None:
    node, expiry = _node(), _now_ms() + _ttl_ms()
    pipe = redis_client().pipeline()
    pipe.zadd(_key("sockets", user_id), {_member(node, channel): expiry})
    pipe.pexpire(_key("sockets", user_id), _ttl_ms() * 2)
    pipe.zadd(_key("stats", "sockets"), {f"{user_id}|{channel}": expiry})
    await pipe.execute()


async def connection_close(user_id: int, channel: str) -> int:
    """Forget a socket; returns how many live sockets the user still has."""
    node = _node()
    node.sockets.pop(channel, None)
    pipe = redis_client().pipeline()
    pipe.zrem(_key("sockets", user_id), _member(node, channel))
    pipe.zrem(_key("stats", "sockets"), f"{user_id}|{channel}")
    pipe.srem(_key("process", node.id), f"{user_id}|{channel}")
    pipe.zcount(_key("sockets", user_id), _now_ms(), "+inf")
    return int((await pipe.execute())[3])


async def node_beat() -> list[int]:
    """Keep this process alive in the registry and clear dead ones. Returns the users whose last
    socket was on a dead process (they are offline now)."""
    node, now = _node(), _now_ms()
    client = redis_client()
    if await client.zadd(_key("processes"), {node.id: now + NODE_TTL_MS}) and node.sockets:
        # Declared dead while alive (a stall longer than NODE_TTL_MS) and cleared: register again.
        logger.warning(
            "socket registry lost this process; registering its sockets again", extra={"sockets": len(node.sockets)}
        )
        pipe = client.pipeline()
        for channel, user_id in node.sockets.items():
            pipe.zadd(_key("sockets", user_id), {_member(node, channel): now + _ttl_ms()})
            pipe.zadd(_key("stats", "sockets"), {f"{user_id}|{channel}": now + _ttl_ms()})
            pipe.sadd(_key("process", node.id), f"{user_id}|{channel}")
        await pipe.execute()
    touched = sorted({int(user) for user in await client.eval(_REAP, 1, _key("processes"), now, _key(""))})
    if not touched:
        return []
    counts = await asyncio.gather(*[live_socket_count(user_id) for user_id in touched])
    return [user_id for user_id, count in zip(touched, counts, strict=True) if count == 0]


async def live_socket_count(user_id: int) -> int:
    return int(await redis_client().zcount(_key("sockets", user_id), _now_ms(), "+inf"))


async def presence_set(user_id: int, status: str | None) -> None:
    key = _key("presence", user_id)
    if status is None:
        await redis_client().delete(key)
    else:
        await redis_client().set(key, status, px=_ttl_ms() * 2)


async def presence_of(user_ids: list[int]) -> dict[int, str]:
    """online / away / busy for users with a live socket anywhere; offline otherwise."""
    if not user_ids:
        return {}
    now = _now_ms()
    pipe = redis_client().pipeline()
    for user_id in user_ids:
        pipe.zcount(_key("sockets", user_id), now, "+inf")
        pipe.get(_key("presence", user_id))
    answers = await pipe.execute()
    result = {}
    for index, user_id in enumerate(user_ids):
        live, status = answers[2 * index], answers[2 * index + 1]
        result[user_id] = (status or "online") if live else "offline"
    return result


class _Rates:
    """One process's view of this second's frames per user."""

    def __init__(self) -> None:
        self.window = 0
        self.here: dict[int, int] = {}  # frames this process saw
        self.synced: dict[int, int] = {}  # of those, already added to Redis
        self.elsewhere: dict[int, int] = {}  # other processes' frames, as of the last sync
        self.task: asyncio.Task[None] | None = None


_rates = PerLoop(_Rates).get
RATE_SYNC_SECONDS = 0.1


def _second() -> int:
    """The rate window this frame counts in: the current second (one clock for every process)."""
    return int(time.time())


def rate_allow(user_id: int, limit: int) -> bool:
    """At most `limit` frames per user per second, counted across every process.

    Counted in memory on the hot path and added to Redis every RATE_SYNC_SECONDS in one
    pipelined round trip for all users; each process then knows the others' counts. A user
    spread over several processes may get a tenth of a second's frames over the limit, never more.
    """
    rates = _rates()
    window = _second()
    if window != rates.window:
        rates.window, rates.here, rates.synced, rates.elsewhere = window, {}, {}, {}
    count = rates.here[user_id] = rates.here.get(user_id, 0) + 1
    if rates.task is None:
        rates.task = asyncio.get_running_loop().create_task(_rates_sync(rates))
    return count + rates.elsewhere.get(user_id, 0) <= limit


async def _rates_sync(rates: _Rates) -> None:
    await asyncio.sleep(RATE_SYNC_SECONDS)
    rates.task = None
    window = rates.window
    added = {user_id: count - rates.synced.get(user_id, 0) for user_id, count in rates.here.items()}
    added = {user_id: n for user_id, n in added.items() if n}
    if not added:
        return
    rates.synced.update({user_id: rates.here[user_id] for user_id in added})
    pipe = redis_client().pipeline(transaction=False)
    for user_id, n in added.items():
        pipe.incrby(_key("rate", user_id, window), n)
        pipe.expire(_key("rate", user_id, window), 2)
    try:
        totals = (await pipe.execute())[::2]
    except Exception:
        return  # Redis unreachable: each process still holds its own count to the limit
    if rates.window == window:
        for user_id, total in zip(added, totals, strict=True):
            rates.elsewhere[user_id] = int(total) - rates.synced[user_id]


async def upload_start(user_id: int, conversation_id: int, intent: dict[str, Any]) -> str:
    upload_id = uuid.uuid4().hex
    payload = json.dumps({"user_id": user_id, "conversation_id": conversation_id, **intent})
    await redis_client().set(_key("upload", upload_id), payload, ex=3600)
    return upload_id


async def upload_get(upload_id: str) -> dict[str, Any] | None:
    raw = await redis_client().get(_key("upload", str(upload_id)[:64]))
    return json.loads(raw) if raw else None


async def upload_finish(upload_id: str) -> None:
    await redis_client().delete(_key("upload", upload_id))


async def conversation_touch(conversation_id: int) -> None:
    await redis_client().zadd(_key("stats", "conversations"), {str(conversation_id): _now_ms()})


async def stats() -> dict[str, int]:
    client = redis_client()
    now = _now_ms()
    await client.zremrangebyscore(_key("stats", "sockets"), "-inf", now)
    await client.zremrangebyscore(_key("stats", "conversations"), "-inf", now - 5 * 60 * 1000)
    sockets = await client.zrange(_key("stats", "sockets"), 0, -1)
    return {
        "connected_users": len({member.split("|", 1)[0] for member in sockets}),
        "sockets": len(sockets),
        "active_conversations": int(await client.zcard(_key("stats", "conversations"))),
    }


# --- read from sync code (the background jobs deciding who is offline) ------------------------------

_sync_client: redis.Redis | None = None


def users_with_sockets(user_ids: list[int]) -> set[int]:
    """Which of these users have a live socket on any server process: one pipelined round trip."""
    global _sync_client
    if not user_ids:
        return set()
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=settings.REDIS_TIMEOUT, socket_connect_timeout=settings.REDIS_TIMEOUT
        )
    now = _now_ms()
    pipe = _sync_client.pipeline(transaction=False)
    for user_id in user_ids:
        pipe.zcount(_key("sockets", user_id), now, "+inf")
    return {user_id for user_id, live in zip(user_ids, pipe.execute(), strict=True) if live}
