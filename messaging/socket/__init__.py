"""The socket's helpers: auth, the Redis registry shared by every process, batched receipts."""

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    """One `factory()` per running event loop (daphne runs one; each test runs its own)."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self.factory = factory
        self.instances: dict[asyncio.AbstractEventLoop, T] = {}

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        found = self.instances.get(loop)
        if found is None:
            for stale in [other for other in self.instances if other.is_closed()]:
                del self.instances[stale]
            found = self.instances[loop] = self.factory()
        return found
