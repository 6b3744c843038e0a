"""When a socket over the rate limit counts as flooding (pure arithmetic, no clock)."""

from messaging.socket.flood import FloodGuard


def refused_frames(guard: FloodGuard, *, per_second: int, seconds: float, start: float = 0.0, limit: int = 30):
    """Frames at a steady rate, the ones over `limit` in a second refused; True when the guard closed."""
    closed = False
    for n in range(int(per_second * seconds)):
        now = start + n / per_second
        if n % per_second >= limit:
            closed = guard.strike(now) or closed
    return closed


def test_bursts_a_little_over_the_limit_never_close_the_socket():
    guard = FloodGuard(limit=30)
    for burst in range(100):  # 35 frames in a moment every 4 s: under 10 a second on average
        now = burst * 4.0
        strikes = [guard.strike(now + n * 0.001) for n in range(5)]  # 5 of the 35 refused
        assert not any(strikes)


def test_hammering_closes_the_socket_within_two_seconds():
    guard = FloodGuard(limit=30)
    assert refused_frames(guard, per_second=100, seconds=2)


def test_staying_a_little_over_the_limit_is_refused_but_not_closed():
    assert not refused_frames(FloodGuard(limit=30), per_second=35, seconds=600)


def test_strikes_fade():
    guard = FloodGuard(limit=30)
    strikes = [guard.strike(0.0) for _ in range(30)]
    assert not any(strikes)
    assert guard.strike(0.0)  # the 31st at once
    assert not guard.strike(60.0)  # a minute later the slate is clean
