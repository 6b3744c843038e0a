"""When a socket that keeps going over the rate limit is flooding.

Every frame over the per-user rate limit is refused with `rate_limited` and is a strike. Strikes
halve every HALF_LIFE seconds, so a client a little over the limit now and then (bursts) keeps
its socket, and one hammering it is closed within a second or two.
"""

from __future__ import annotations

HALF_LIFE = 2.0  # seconds


class FloodGuard:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.strikes = 0.0
        self.last = 0.0

    def strike(self, now: float) -> bool:
        """Count one refused frame at `now` (monotonic seconds); True when the socket must close."""
        self.strikes = self.strikes * 0.5 ** ((now - self.last) / HALF_LIFE) + 1
        self.last = now
        return self.strikes > self.limit
