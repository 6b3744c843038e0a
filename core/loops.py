"""State kept per event loop: daphne runs one loop per process, each test runs its own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


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
