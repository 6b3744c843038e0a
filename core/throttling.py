"""The API's per-user and per-address rate limits, counted in Redis in one atomic round trip.

DRF's throttles keep the timestamp of every request of the last minute in one cache value,
which each request reads, unpickles, extends, pickles and writes back whole: work and
bytes that grow with the limit (52 KB a request for a client making a few thousand a
minute), and two server processes racing lose each other's counts. Here a sliding window
is estimated from two fixed-window counters, this minute's and the previous one's
weighted by how much of it is still inside the last 60 s (INCR, EXPIRE and GET in one
pipeline). Refused requests are not counted.
"""

import math

from django.core.cache import cache
from rest_framework import throttling


class SlidingWindowThrottle:
    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        if not hasattr(cache, "redis"):  # another cache backend (core.cache.RedisCache is ours)
            return super().allow_request(request, view)
        now = self.timer()
        window = int(now // self.duration)
        current_key = cache.make_and_validate_key(f"{self.key}:{window}")
        previous_key = cache.make_and_validate_key(f"{self.key}:{window - 1}")
        client = cache.redis(current_key, write=True)
        with client.pipeline(transaction=False) as pipe:
            pipe.incr(current_key)
            pipe.expire(current_key, self.duration * 2)
            pipe.get(previous_key)
            current, _, previous = pipe.execute()
        previous = int(previous or 0)
        elapsed = now - window * self.duration
        if current + previous * (1 - elapsed / self.duration) <= self.num_requests:
            return True
        client.decr(current_key)
        current -= 1
        if current >= self.num_requests or not previous:
            self.retry_after = self.duration - elapsed  # this window is full: wait for the next
        else:  # until enough of the previous window has slid out
            self.retry_after = self.duration * (1 - (self.num_requests - current - 1) / previous) - elapsed
        return self.throttle_failure()

    def wait(self):
        if not hasattr(self, "retry_after"):
            return super().wait()
        return max(1, math.ceil(self.retry_after - 1e-6))


class UserRateThrottle(SlidingWindowThrottle, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(SlidingWindowThrottle, throttling.AnonRateThrottle):
    pass
