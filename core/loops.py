"""State kept per event loop (the server runs one loop per process, each test runs its own), and
long-lived tasks kept running (`supervised`)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

logger = logging.getLogger("crm.loops")


class PerLoop(Generic[T]):
    """One `factory()` per running event loop. What belonged to a loop that has closed is dropped
    the next time a new loop asks, after `discard` (if given) has had it: a closed loop can no
    longer run anyone's async clean-up."""

    def __init__(self, factory: Callable[[], T], discard: Callable[[T], None] | None = None) -> None:
        self.factory = factory
        self.discard = discard
        self.instances: dict[asyncio.AbstractEventLoop, T] = {}

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        found = self.instances.get(loop)
        if found is None:
            self.drop_closed()
            found = self.instances[loop] = self.factory()
        return found

    def drop_closed(self) -> None:
        for loop in [loop for loop in self.instances if loop.is_closed()]:
            instance = self.instances.pop(loop)
            if self.discard is not None:
                self.discard(instance)


RESTART_FIRST_SECONDS = 0.1  # the wait before the first restart of a crashed task
RESTART_MAX_SECONDS = 5.0  # the longest wait: doubled at each crash in a row, up to this


async def supervised(name: str, run: Callable[[], Awaitable[None]]) -> None:
    """Run `run()` for as long as this task lives: a crash (an exception, or a return: these tasks
    never end on their own) is logged with its traceback and `run` started again, after a wait that
    doubles at each crash in a row (RESTART_FIRST_SECONDS up to RESTART_MAX_SECONDS) and starts
    over once a run has lasted longer than the longest wait. Cancelling the task stops it."""
    wait = RESTART_FIRST_SECONDS
    while True:
        started = time.monotonic()
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error: Exception | None = exc
        else:
            error = None
        if time.monotonic() - started > RESTART_MAX_SECONDS:  # a long run: not a crash loop
            wait = RESTART_FIRST_SECONDS
        logger.error(
            "task crashed; restarting" if error else "task ended; restarting",
            exc_info=error,
            extra={"task": name, "restart_in": wait},
        )
        await asyncio.sleep(wait)
        wait = min(wait * 2, RESTART_MAX_SECONDS)
