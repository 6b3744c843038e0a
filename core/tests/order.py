"""The order the suite runs in: modules whose tests mostly wait (on a socket, a worker, a timeout) take
turns with modules whose tests keep a core busy.

pytest-xdist hands tests out in collection order, and the waiting modules sit together (messaging,
notifications): run last, every worker waited at once and the machine idled for the run's last 15 s
(`make test-fast`, 3 workers, 2 cores). Interleaved, one worker's wait is another's turn on the CPU.
Each module stays in one piece (its module-scoped fixtures are set up once) and keeps its own order.
"""

from __future__ import annotations

import inspect
from itertools import zip_longest

import pytest

# Fixtures whose tests wait on something outside the test's own code.
WAITING_FIXTURES = frozenset({"worker", "push_parts", "transactional_db", "live_server"})


def waits(item: pytest.Item) -> bool:
    function = getattr(item, "function", None)
    if function is not None and inspect.iscoroutinefunction(function):
        return True  # a socket test: frames awaited with timeouts
    return bool(WAITING_FIXTURES & set(getattr(item, "fixturenames", ())))


def interleave(items: list[pytest.Item]) -> None:
    """Reorder `items` in place: modules that wait alternate with modules that compute."""
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    waiting: list[list[pytest.Item]] = []
    computing: list[list[pytest.Item]] = []
    for module in modules.values():
        (waiting if sum(map(waits, module)) * 2 >= len(module) else computing).append(module)
    turns: list[list[pytest.Item]] = []
    for pair in zip_longest(waiting, computing):
        turns.extend(module for module in pair if module is not None)
    items[:] = [item for module in turns for item in module]
