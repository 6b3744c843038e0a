"""Loop-lag trace for a server process: `PYTHONPATH=bench/trace` loads this into every Python
process started with it (daphne workers included), before anything else.

Prints to stderr every event-loop callback that ran longer than LOOP_LAG_MS (default 15), with its
CPU time (wall far above CPU: the thread waited, for the GIL or the core; equal: Python work), and
every garbage-collector pass longer than 5 ms. How the stalls of docs/performance.md were found.
"""

import asyncio.events
import gc
import os
import sys
import time

_limit = float(os.environ.get("LOOP_LAG_MS", "15")) / 1000
_run = asyncio.events.Handle._run


def _name(handle) -> str:
    callback = handle._callback
    owner = getattr(callback, "__self__", None)
    try:
        if owner is not None and hasattr(owner, "get_coro"):
            return owner.get_coro().__qualname__
    except Exception:
        pass
    return repr(callback)[:120]


def _timed(handle) -> None:
    wall, cpu = time.perf_counter(), time.thread_time()
    _run(handle)
    wall = time.perf_counter() - wall
    if wall > _limit:
        cpu = time.thread_time() - cpu
        print(
            f"loop-lag t={time.time():.2f} {wall * 1000:.1f} ms (cpu {cpu * 1000:.1f} ms) {_name(handle)}",
            file=sys.stderr,
            flush=True,
        )


asyncio.events.Handle._run = _timed  # type: ignore[method-assign,assignment]  # the point of this file
_gc_started = [0.0]


def _gc(phase, info) -> None:
    if phase == "start":
        _gc_started[0] = time.perf_counter()
        return
    took = time.perf_counter() - _gc_started[0]
    if took > 0.005:
        print(
            f"gc-pause t={time.time():.2f} generation {info['generation']} {took * 1000:.1f} ms "
            f"collected {info['collected']}",
            file=sys.stderr,
            flush=True,
        )


gc.callbacks.append(_gc)
