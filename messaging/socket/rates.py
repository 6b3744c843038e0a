"""The socket's frame rate limit: at most SOCKET_RATE_LIMIT frames per user per second, counted across
every server process. Each process counts in memory and adds its counts to `rate:<user>:<second>` in the
registry's Redis (`messaging/socket/registry.py`)."""

from __future__ import annotations

import asyncio
import time

from core.loops import PerLoop
from messaging.socket import registry_scripts
from messaging.socket.registry import key, redis_client


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

    Counted in memory on the hot path and added to Redis every RATE_SYNC_SECONDS by one script
    call for all users (`registry_scripts.RATES`); each process then knows the others' counts. A user
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
    keys = [key("rate", user_id, window) for user_id in added]
    try:
        totals = await redis_client().eval(registry_scripts.RATES, len(keys), *keys, *added.values())
    except Exception:
        return  # Redis unreachable: each process still holds its own count to the limit
    if rates.window == window:
        for user_id, total in zip(added, totals, strict=True):
            rates.elsewhere[user_id] = int(total) - rates.synced[user_id]
