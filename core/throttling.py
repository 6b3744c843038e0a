"""The API's per-user and per-address rate limits, counted in Redis in one atomic round trip.

DRF's throttles keep the timestamp of every request of the last minute in one cache value,
which each request reads, unpickles, extends, pickles and writes back whole: work and
bytes that grow with the limit (52 KB a request for a client making a few thousand a
minute), and two server processes racing lose each other's counts. Here a sliding window
is estimated from two fixed-window counters, this minute's and the previous one's
weighted by how much of it is still inside the last 60 s (INCR, EXPIRE and GET in one
pipeline). Refused requests are not counted.

While Redis is unreachable the same counts are kept in this process's memory (`LocalCounts`), so
every limit still holds per process (with N processes a client may get up to N times the rate);
the outage is logged once, then at most once a minute (`core.outages`). Nothing is refused
because Redis is down.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, cast

from django.core.cache import cache
from rest_framework import throttling

from core.cache import RedisCache
from core.outages import REDIS_ERRORS, redis_outage

if TYPE_CHECKING:  # (rest_framework.views loads the throttles: imported for the types only)
    from rest_framework.request import Request
    from rest_framework.views import APIView

    _Throttle = throttling.SimpleRateThrottle  # a mixin in front of DRF's throttles, which give it these
else:
    _Throttle = object


class LocalCounts:
    """Fixed-window counters in process memory, for while Redis is down. Only the current and the
    previous window of each duration are kept."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.windows: dict[tuple[int, int], dict[str, int]] = {}  # (duration, window) -> key -> count

    def add(self, key: str, duration: int, window: int, n: int) -> tuple[int, int]:
        """Add n to this window's count; (this window's count, the previous window's)."""
        with self.lock:
            for stale in [w for w in self.windows if w[0] == duration and w[1] < window - 1]:
                del self.windows[stale]
            current = self.windows.setdefault((duration, window), {})
            current[key] = current.get(key, 0) + n
            return current[key], self.windows.get((duration, window - 1), {}).get(key, 0)


local_counts = LocalCounts()


class SlidingWindowThrottle(_Throttle):
    num_requests: int  # set by DRF's throttle from its rate (read only when there is one)
    duration: int
    retry_after: float  # set when a request is refused

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        key = self.key = self.get_cache_key(request, view)
        if key is None:
            return True
        if not hasattr(cache, "redis"):  # another cache backend (core.cache.RedisCache is ours)
            return super().allow_request(request, view)
        now = self.timer()
        window = int(now // self.duration)
        current, previous = self._count(key, window, 1)
        elapsed = now - window * self.duration
        if current + previous * (1 - elapsed / self.duration) <= self.num_requests:
            return True
        self._count(key, window, -1)
        current -= 1
        if current >= self.num_requests or not previous:
            self.retry_after = self.duration - elapsed  # this window is full: wait for the next
        else:  # until enough of the previous window has slid out
            self.retry_after = self.duration * (1 - (self.num_requests - current - 1) / previous) - elapsed
        return self.throttle_failure()

    def _count(self, key: str, window: int, n: int) -> tuple[int, int]:
        """Add n to this window's count in Redis (in memory while Redis is down); both windows' counts."""
        if not redis_outage.skip():
            current_key = cache.make_and_validate_key(f"{key}:{window}")
            previous_key = cache.make_and_validate_key(f"{key}:{window - 1}")
            try:
                with cast("RedisCache", cache).redis(current_key, write=True).pipeline(transaction=False) as pipe:
                    pipe.incrby(current_key, n)
                    pipe.expire(current_key, self.duration * 2)
                    pipe.get(previous_key)
                    current, _, previous = pipe.execute()
            except REDIS_ERRORS as exc:
                redis_outage.failed("rate limits counted in process memory", exc)
            else:
                redis_outage.recovered()
                return current, int(previous or 0)
        return local_counts.add(key, self.duration, window, n)

    def wait(self) -> float | None:
        if not hasattr(self, "retry_after"):
            return super().wait()
        return max(1, math.ceil(self.retry_after - 1e-6))


class UserRateThrottle(SlidingWindowThrottle, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(SlidingWindowThrottle, throttling.AnonRateThrottle):
    pass
