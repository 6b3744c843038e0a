"""The socket's helpers: auth, the Redis registry shared by every process, batched receipts."""

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

# As many threads as the process may hold database connections: the loop's default executor has
# cores + 4, which would cap a busy process at six database calls in flight.
_database_threads = ThreadPoolExecutor(
    max_workers=max(4, settings.DATABASES["default"].get("OPTIONS", {}).get("pool", {}).get("max_size", 10)),
    thread_name_prefix="socket-db",
)


P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def in_db_thread(func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """`func` (ORM work) as a coroutine function that runs it on one of this process's database
    threads, with a pooled connection that is checked before and returned after.

    Not Channels' `database_sync_to_async`: that one is thread-sensitive (every call of a process
    queues on one thread), this one is not, so sockets' database work runs side by side.
    """

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(run, thread_sensitive=False, executor=_database_threads)


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
