"""core.handlers.ASGIHandler on its own: what Django's handler guarantees, kept by ours (error
shape, closing every response, giving the database connection back) and a guard for the Django
internals it is built on."""

import hashlib
import inspect
import json

import pytest
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.core.handlers.base import BaseHandler
from django.db import connections
from django.test import override_settings

from core.handlers import ASGIHandler
from core.tests import handler_urls

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume"),
    pytest.mark.usefixtures("test_urls"),
]


@pytest.fixture
def test_urls():
    handler_urls.closed.clear()
    with override_settings(ROOT_URLCONF="core.tests.handler_urls", DEBUG_PROPAGATE_EXCEPTIONS=False):
        yield


def scope(path: str, query: str = "") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


async def call(handler, path: str, query: str = "", *, fail_on_body: bool = False) -> list[dict]:
    """Run one request through the handler; returns the messages it sent."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if fail_on_body and message["type"] == "http.response.body":
            raise OSError("the client went away")
        sent.append(message)

    await handler(scope(path, query), receive, send)
    return sent


def pool_in_use() -> int:
    stats = connections["default"].pool.get_stats()  # type: ignore[attr-defined]  # the PostgreSQL backend's pool
    return stats["pool_size"] - stats["pool_available"]


@pytest.fixture
def handler():
    return ASGIHandler()


async def test_a_request_gives_its_database_connection_back(handler):
    before = pool_in_use()
    for _ in range(3 * len(handler._threads)):
        sent = await call(handler, "/query")
        assert sent[0]["status"] == 200 and sent[1]["body"] == b"ok"
    assert pool_in_use() == before


async def test_a_bug_in_a_view_is_a_500_in_the_error_shape_and_frees_the_connection(handler):
    before = pool_in_use()
    sent = await call(handler, "/boom")
    assert sent[0]["status"] == 500
    assert json.loads(sent[1]["body"]) == {
        "error": {"code": "server_error", "message": "Something went wrong on our side.", "details": {}}
    }
    assert pool_in_use() == before


async def test_a_stream_is_sent_whole_then_closed(handler):
    sent = await call(handler, "/stream")
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"first,second"
    assert handler_urls.closed == [200]


async def test_a_stream_that_fails_midway_is_closed_and_frees_the_connection(handler):
    before = pool_in_use()
    with pytest.raises(RuntimeError, match="failed while streaming"):  # daphne then drops the connection
        await call(handler, "/stream", "fail=1")
    assert handler_urls.closed == [200] and pool_in_use() == before
    assert (await call(handler, "/query"))[0]["status"] == 200  # the thread serves the next request


async def test_a_client_gone_mid_response_still_closes_it_and_frees_the_connection(handler):
    before = pool_in_use()
    with pytest.raises(OSError, match="the client went away"):
        await call(handler, "/stream", fail_on_body=True)
    assert handler_urls.closed == [200] and pool_in_use() == before


# The parts of Django's handlers that core.handlers replaces, copies or relies on, as of Django 5.2.
# When Django changes one, this fails: read the new code against core/handlers.py, then update.
DJANGO_INTERNALS = {
    (DjangoASGIHandler, "__call__"): "f756809e",
    (DjangoASGIHandler, "handle"): "98faeb5b",
    (DjangoASGIHandler, "read_body"): "cf4aa904",
    (DjangoASGIHandler, "create_request"): "5eae59c6",
    (DjangoASGIHandler, "send_response"): "77eda2b0",
    (BaseHandler, "get_response"): "3d6a79b1",
    (BaseHandler, "load_middleware"): "a1fb7ee5",
}


def test_the_django_internals_core_handlers_relies_on_are_unchanged():
    changed = [
        f"{cls.__name__}.{name}"
        for (cls, name), digest in DJANGO_INTERNALS.items()
        if hashlib.sha256(inspect.getsource(getattr(cls, name)).encode()).hexdigest()[:8] != digest
    ]
    assert not changed, f"Django changed {', '.join(changed)}: re-read core/handlers.py against it, then update"
