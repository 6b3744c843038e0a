"""The suite's order (core/tests/order.py): waiting modules take turns with computing ones, each whole."""

from types import SimpleNamespace

from core.tests import order


def item(module, name, *, fixtures=(), coroutine=False):
    async def waits_on_a_socket():
        pass

    def computes():
        pass

    return SimpleNamespace(
        nodeid=f"{module}::{name}", function=waits_on_a_socket if coroutine else computes, fixturenames=list(fixtures)
    )


def test_modules_that_wait_alternate_with_modules_that_compute_and_stay_whole():
    items = [
        item("a/test_admin.py", "one"),
        item("a/test_admin.py", "two"),
        item("b/test_api.py", "one"),
        item("m/test_socket.py", "one", coroutine=True),
        item("m/test_socket.py", "two", coroutine=True),
        item("n/test_push.py", "one", fixtures=["worker"]),
        item("n/test_push.py", "two"),  # half the module waits: a waiting module
    ]
    order.interleave(items)
    assert [i.nodeid for i in items] == [
        "m/test_socket.py::one",
        "m/test_socket.py::two",
        "a/test_admin.py::one",
        "a/test_admin.py::two",
        "n/test_push.py::one",
        "n/test_push.py::two",
        "b/test_api.py::one",
    ]
