"""Test tiers, marked at collection (the root conftest's `pytest_collection_modifyitems`).

- `live`: the test starts another process: a real server (`core/tests/live_server.py`), a private Redis
  server, a command run as a subprocess (`manage.py`, `pg_dump`, node).
- `browser`: the test drives a headless Chromium (`core/tests/browser.py`).
- `drill`: the test runs one of `bench/drills.py`'s drills (kill or stop a node mid-stream, restore a
  backup), minutes of a real deployment shrunk to a test.

A test is marked by what its code reaches: the names its function and its fixtures (and the helpers of
the test code and `bench/` they call, transitively) load, read from their bytecode. Reaching the
`subprocess` or `multiprocessing` module makes it `live`; `core.tests.browser.chromium` or selenium's
`webdriver`, `browser`; `bench.drills.run_drill`, `drill`. A module may also say so itself
(`pytestmark = pytest.mark.drill`). `make test-fast` runs what is none of the three.
"""

from __future__ import annotations

import types
from collections.abc import Iterable
from typing import Any

import pytest

TIERS = ("live", "drill", "browser")

# What reaching a module, or one function or class, means.
MODULES = {
    "subprocess": "live",
    "asyncio.subprocess": "live",
    "multiprocessing": "live",
    "selenium.webdriver": "browser",
}
OBJECTS = {
    ("core.tests.browser", "chromium"): "browser",
    ("bench.drills", "run_drill"): "drill",
}


def _tier_of_module(name: str) -> str | None:
    for prefix, tier in MODULES.items():
        if name == prefix or name.startswith(prefix + "."):
            return tier
    return None


def _ours(module_name: str) -> bool:
    """Test code and the bench, whose helpers are followed (application code is not: a test that makes
    the application start a process, a backup's pg_dump, is marked by hand)."""
    return module_name == "conftest" or ".tests" in module_name or module_name.startswith(("bench.", "conftest"))


def _codes(code: types.CodeType) -> Iterable[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


class _Reach:
    def __init__(self) -> None:
        self.seen: dict[types.CodeType, set[str]] = {}

    def of_function(self, function: Any) -> set[str]:
        function = getattr(function, "__wrapped__", function)
        function = getattr(function, "__func__", function)
        code = getattr(function, "__code__", None)
        if code is None:
            return set()
        return self.of_code(code, function.__globals__)

    def of_code(self, code: types.CodeType, namespace: dict[str, Any]) -> set[str]:
        if code in self.seen:
            return self.seen[code]
        marks: set[str] = set()
        self.seen[code] = marks  # (a recursive helper reaches itself)
        for each in _codes(code):
            for name in each.co_names:
                marks |= self._of_object(namespace.get(name), each.co_names)
        return marks

    def _of_object(self, obj: Any, names: tuple[str, ...]) -> set[str]:
        if isinstance(obj, types.ModuleType):
            if tier := _tier_of_module(obj.__name__):
                return {tier}
            if _ours(obj.__name__):  # `live_server.start_server(...)`: the attributes read of it
                marks: set[str] = set()
                for name in names:
                    attribute = getattr(obj, name, None)
                    if attribute is not None and not isinstance(attribute, types.ModuleType):
                        marks |= self._of_object(attribute, ())
                return marks
            return set()
        module = getattr(obj, "__module__", None)
        if not isinstance(module, str):
            return set()
        if tier := _tier_of_module(module):
            return {tier}
        if (module, getattr(obj, "__qualname__", "")) in OBJECTS:
            return {OBJECTS[module, obj.__qualname__]}
        if not _ours(module):
            return set()
        if isinstance(obj, type):
            marks = set()
            for attribute in vars(obj).values():
                if isinstance(attribute, (types.FunctionType, staticmethod, classmethod, property)):
                    target = attribute.fget if isinstance(attribute, property) else attribute
                    marks |= self.of_function(target)
            return marks
        if callable(obj):
            return self.of_function(obj)
        return set()


def mark(items: list[pytest.Item]) -> None:
    """Add the tier marks each test's code reaches (a mark already given stays)."""
    reach = _Reach()
    for item in items:
        function = getattr(item, "function", None)
        if function is None:
            continue
        marks = reach.of_function(function)
        # pytest's own record of the fixtures a test uses (a private name: core/tests/test_tripwires.py)
        for definitions in item._fixtureinfo.name2fixturedefs.values():  # type: ignore[attr-defined]
            for definition in definitions:
                if _ours(getattr(definition.func, "__module__", "") or ""):
                    marks |= reach.of_function(definition.func)
        for tier in sorted(marks - {m.name for m in item.iter_markers()}):
            item.add_marker(getattr(pytest.mark, tier))
