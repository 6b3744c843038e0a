"""core.edge adapting the app to the production server (granian), in-process: ports as numbers, the
lifespan, the graceful shutdown's order (the frame in hand answered, then 1012). And a tripwire on
the private behaviour of granian and Python it relies on (`DEPENDED_ON`); the live tests
(`test_graceful_shutdown.py`, `test_live_socket_promises.py`) prove the whole against real servers."""

import asyncio
import atexit
import hashlib
import inspect
import json
import multiprocessing.popen_fork
import signal

import granian._signals
import granian.asgi
import granian.server.mp
import pytest

from core import edge as edge_module
from core.edge import CLOSE_SERVICE_RESTART, SERVICE_RESTART_REASON, Edge
from core.frames_in_order import BACKLOG_LIMIT

RESTART_CLOSE = {"type": "websocket.close", "code": CLOSE_SERVICE_RESTART, "reason": SERVICE_RESTART_REASON}


class Connection:
    """One socket as the server hands it to the app: what the client sent, what the app sent back."""

    def __init__(self, *incoming: dict) -> None:
        self.incoming: asyncio.Queue[dict] = asyncio.Queue()
        for message in ({"type": "websocket.connect"}, *incoming):
            self.incoming.put_nowait(message)
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        return await self.incoming.get()

    async def send(self, message: dict) -> None:
        self.sent.append(message)


def socket_scope() -> dict:
    return {
        "type": "websocket",
        "path": "/ws/",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", "50000"),  # as granian gives them: text
        "server": ("127.0.0.1", "8000"),
        "scheme": "ws",
    }


class EchoApp:
    """Accepts, answers each frame after `work` seconds, records the disconnect it was given."""

    def __init__(self, work: float = 0.0) -> None:
        self.work = work
        self.disconnected: list[int] = []
        self.scopes: list[dict] = []

    async def __call__(self, scope, receive, send) -> None:
        self.scopes.append(scope)
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.disconnected.append(message["code"])
                return
            await asyncio.sleep(self.work)
            await send({"type": "websocket.send", "text": f"ack {message['text']}"})


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_ports_given_as_text_reach_the_app_as_numbers():
    app = EchoApp()
    connection = Connection({"type": "websocket.disconnect", "code": 1000})
    await Edge(app)(socket_scope(), connection.receive, connection.send)
    assert app.scopes[0]["client"] == ("127.0.0.1", 50000) and app.scopes[0]["server"] == ("127.0.0.1", 8000)


async def test_the_lifespan_is_answered_and_runs_the_exit_hooks_at_shutdown(monkeypatch):
    """(Not this process's own exit hooks: they would stop what the rest of the suite uses. A real
    worker running them is `messaging/tests/test_process_death.py`'s SIGTERM case.)"""
    ran = []
    monkeypatch.setattr(edge_module, "run_exit_hooks", lambda: ran.append("exit hooks"))
    monkeypatch.setattr(edge_module, "_in_granian_worker", lambda: True)
    app = EchoApp()
    lifespan = Connection()
    lifespan.incoming = asyncio.Queue()
    for kind in ("lifespan.startup", "lifespan.shutdown"):
        lifespan.incoming.put_nowait({"type": kind})
    await Edge(app)({"type": "lifespan"}, lifespan.receive, lifespan.send)
    assert [m["type"] for m in lifespan.sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert ran == ["exit hooks"] and app.scopes == []  # the inner app knows only HTTP and WebSockets
    # the graceful shutdown was installed on SIGTERM (removed here: this is the test process's loop)
    assert asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)


async def test_a_stopping_process_answers_the_frame_in_hand_then_closes_with_1012():
    app = EchoApp(work=0.2)
    edge = Edge(app)
    busy = Connection({"type": "websocket.receive", "text": "in hand"})
    idle = Connection()
    sockets = [
        asyncio.create_task(edge(socket_scope(), connection.receive, connection.send)) for connection in (busy, idle)
    ]
    await settle()  # both accepted; `busy` is working on its frame, `idle` waits for one
    busy.incoming.put_nowait({"type": "websocket.receive", "text": "after the stop"})
    await edge.drain()
    await asyncio.gather(*sockets)
    assert busy.sent == [
        {"type": "websocket.accept"},
        {"type": "websocket.send", "text": "ack in hand"},  # answered before the close: the client has its ack
        RESTART_CLOSE,
    ]
    assert idle.sent == [{"type": "websocket.accept"}, RESTART_CLOSE]
    assert app.disconnected == [CLOSE_SERVICE_RESTART, CLOSE_SERVICE_RESTART]  # each cleaned up
    assert not edge.sockets


async def test_a_socket_that_opens_while_the_process_stops_is_told_to_reconnect():
    app = EchoApp()
    edge = Edge(app)
    await edge.drain()
    late = Connection()
    await edge(socket_scope(), late.receive, late.send)
    assert late.sent == [{"type": "websocket.accept"}, RESTART_CLOSE]
    assert app.scopes == []


async def test_a_socket_whose_app_does_not_finish_is_closed_when_the_drain_runs_out():
    app = EchoApp(work=60)
    edge = Edge(app)
    stuck = Connection({"type": "websocket.receive", "text": "slow"})
    task = asyncio.create_task(edge(socket_scope(), stuck.receive, stuck.send))
    await settle()
    await edge.drain(timeout=0.1)
    assert stuck.sent[-1] == RESTART_CLOSE
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [m["type"] for m in stuck.sent].count("websocket.close") == 1


async def test_a_socket_the_app_closed_itself_gets_no_second_close():
    async def refusing(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 4401})

    edge = Edge(refusing)
    refused = Connection()
    await edge(socket_scope(), refused.receive, refused.send)
    await edge.drain()
    assert refused.sent == [{"type": "websocket.accept"}, {"type": "websocket.close", "code": 4401}]


# What core.edge and crm_project.serve rely on that is not anyone's public API, as of granian 2.8.9 and
# Python 3.11. When one changes, this fails: read the new code against core/edge.py, then update.
DEPENDED_ON = {
    # A worker's loop stops on SIGINT as on SIGTERM: Edge replaces the SIGTERM handler with the
    # graceful shutdown, which then sends the worker SIGINT.
    granian._signals.set_loop_signals: "ce78d760",
    # The ASGI worker: signals set, then the lifespan's startup (where Edge installs its handler), then
    # serving; the lifespan's shutdown after the server stops (where Edge runs the exit hooks).
    granian.server.mp.MPServer._spawn_asgi_lifespan_worker: "819eb9d2",
    # root_path set from --url-path-prefix (empty: Django's FORCE_SCRIPT_NAME decides, as under daphne).
    granian.asgi._callback_wrapper: "1af931f6",
    # A forked child leaves through os._exit: atexit hooks never run (Edge runs them at lifespan shutdown).
    multiprocessing.popen_fork.Popen._launch: "963edc9d",  # type: ignore[attr-defined]  # private, as said
}


def test_the_private_behaviour_the_production_server_relies_on_is_unchanged():
    changed = [
        function.__qualname__
        for function, digest in DEPENDED_ON.items()
        if hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:8] != digest
    ]
    assert not changed, f"changed: {', '.join(changed)}: re-read core/edge.py against it, then update"
    assert callable(atexit._run_exitfuncs)


class RefusingApp:
    """Refuses every socket before accepting it, as the consumer refuses a bad token."""

    def __init__(self, code: int) -> None:
        self.code = code

    async def __call__(self, scope, receive, send) -> None:
        await receive()
        await send({"type": "websocket.close", "code": self.code, "reason": "go away"})


@pytest.mark.parametrize(("code", "status", "error"), [(4401, 401, "token_invalid"), (4429, 429, "rate_limited")])
async def test_a_refused_handshake_is_answered_with_its_status_where_the_server_takes_a_denial(code, status, error):
    connection = Connection()
    await Edge(RefusingApp(code))(
        {**socket_scope(), "extensions": {"websocket.http.response": {}}}, connection.receive, connection.send
    )
    start, body = connection.sent
    assert (start["type"], start["status"]) == ("websocket.http.response.start", status)
    assert json.loads(body["body"]) == {"error": {"code": error, "message": "go away", "details": {}}}


async def test_without_the_denial_extension_a_refused_handshake_is_the_servers_own_close():
    connection = Connection()
    await Edge(RefusingApp(4401))(socket_scope(), connection.receive, connection.send)
    assert connection.sent == [{"type": "websocket.close", "code": 4401, "reason": "go away"}]


class WritingServer:
    """A socket's `send` as granian's: the message goes to the server's writer at once and an awaitable
    (not a coroutine) comes back, done once the frame is written; the test says when that is."""

    def __init__(self) -> None:
        self.handed: list[str] = []
        self.writes: list[asyncio.Future[None]] = []

    def send(self, message: dict) -> asyncio.Future[None]:
        written = asyncio.get_running_loop().create_future()
        self.handed.append(message.get("text", message["type"]))
        self.writes.append(written)
        return written


async def test_a_sockets_messages_reach_the_server_one_at_a_time_in_the_order_sent():
    """granian may write two messages handed over together in either order: a message sent while one
    is being written waits in the socket's backlog, handed over in the order sent, each once the one
    before is written; with nothing in flight it is handed over at once (the server's awaitable back,
    which a push need not wait for). Past BACKLOG_LIMIT the sender waits too."""
    server = WritingServer()
    socket = edge_module._Socket(Connection().receive, server.send)
    first = socket.send({"type": "websocket.send", "text": "1"})
    assert first is server.writes[0] and server.handed == ["1"]  # handed over at once

    waiting = [socket.send({"type": "websocket.send", "text": text}) for text in "234"]
    await settle()
    assert server.handed == ["1"]  # "1" is still being written
    for written in range(3):
        server.writes[written].set_result(None)
        await settle()
        assert server.handed == ["1", "2", "3", "4"][: written + 2]  # one at a time, in the order sent
    await asyncio.gather(*waiting)  # each done once handed over

    server.writes[3].set_result(None)  # all written: the next is handed over at once again
    assert socket.send({"type": "websocket.send", "text": "5"}) is server.writes[4]
    backlog = [socket.send({"type": "websocket.send", "text": "x"}) for _ in range(BACKLOG_LIMIT)]
    assert not any(inspect.iscoroutine(sent) for sent in backlog)
    full = socket.send({"type": "websocket.send", "text": "y"})
    assert inspect.iscoroutine(full)  # the client stopped reading: this sender waits
    server.writes[4].set_result(None)
    await settle()
    assert server.handed[-1] == "x"
    full.close()


async def test_an_awaitable_of_the_servers_that_is_finished_already_holds_nothing_up():
    """granian answers some messages with awaitables that are finished and have no `done()` (an error:
    the transport closed; nothing to wait for): the next message is handed over at once."""

    class Finished:
        def __await__(self):
            return iter(())

    handed = []

    def server_send(message):
        handed.append(message["text"])
        return Finished()

    socket = edge_module._Socket(Connection().receive, server_send)
    for text in "12":
        assert isinstance(socket.send({"type": "websocket.send", "text": text}), Finished)
    assert handed == ["1", "2"]


async def test_frames_still_unwritten_when_the_app_returns_are_written_before_the_connection_ends():
    """Pushes are not waited for, so the app can return with frames in the backlog or being written:
    the server ends the connection when the handler returns, so the handler waits for them."""

    async def app(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        for text in "12":
            send({"type": "websocket.send", "text": text})  # (a push: not waited for)
        await send({"type": "websocket.close", "code": 1000})

    server = WritingServer()
    handler = asyncio.create_task(Edge(app)(socket_scope(), Connection().receive, server.send))
    await settle()
    assert server.handed == ["websocket.accept"] and not handler.done()  # the accept is being written
    for written in range(4):
        server.writes[written].set_result(None)
        await settle()
    assert server.handed == ["websocket.accept", "1", "2", "websocket.close"]
    await asyncio.wait_for(handler, 1)
