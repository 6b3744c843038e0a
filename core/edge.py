"""What every HTTP request and socket goes through before the app: who the client is, the access log,
and the process's lifespan (graceful shutdown).

The client's address and scheme are decided once, here, from the connection: a request that
came from an address in `TRUSTED_PROXIES` takes them from that proxy's `X-Forwarded-For` and
`X-Forwarded-Proto`; anyone else's headers are ignored. The decision is written into the ASGI
scope, so Django's `REMOTE_ADDR` and `request.scheme`, the socket's `scope["client"]`, the
throttles, the login lockout and the access log all see the same client (`client_address`).

Graceful shutdown (production server, granian): a worker told to stop (SIGTERM) stops handing
its sockets' frames to the app; each socket answers the frame in hand, runs its disconnect
(registry, groups, presence) and is closed with 1012 (service restart: reconnect, another node
takes it, then catch up with `after=<seq>`). A socket that opens meanwhile is closed with 1012
too. Then the worker stops. What granian does differently from daphne is adapted here, not in
the consumer: ports come as text (made numbers), the lifespan is answered (the inner app knows
only HTTP and WebSockets), and a worker leaves through `os._exit` (a multiprocessing child), so
the process's exit hooks (`atexit`: the socket registry marks the process dead) run at lifespan
shutdown. A socket refused before it opens (a close before `websocket.accept`: bad token, origin,
cap) is answered with the HTTP status its close code names (4401 -> 401, ...) where the server
offers ASGI's denial response (granian); daphne's equivalent is `crm_project/daphne_close.py`.
"""

from __future__ import annotations

import asyncio
import atexit
import ipaddress
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core.asgi_types import ASGIApp, Message, Receive, Scope, Send
from core.errors import CoreErrorCode, error_body
from core.frames_in_order import FramesInOrder

access_log = logging.getLogger("crm.access")
logger = logging.getLogger("crm.server")

CLOSE_SERVICE_RESTART = 1012  # RFC 6455 registry: the server is restarting; the client reconnects
SERVICE_RESTART_REASON = "the server is restarting: reconnect, then catch up"
# Seconds a stopping worker gives its sockets to answer the frame in hand and clean up before it
# closes them anyway; below the launcher's --grace (10 s), after which the worker is killed.
DRAIN_SECONDS = 5.0
# The socket close codes that can refuse a handshake, as the HTTP status a refused handshake answers.
HANDSHAKE_STATUS = {4401: 401, 4403: 403, 4429: 429, 4503: 503}
ERROR_CODE_OF_STATUS = {
    401: CoreErrorCode.TOKEN_INVALID,
    403: CoreErrorCode.PERMISSION_DENIED,
    429: CoreErrorCode.RATE_LIMITED,
    503: CoreErrorCode.SERVICE_UNAVAILABLE,
}
DENIAL_RESPONSE = "websocket.http.response"  # ASGI's extension: the app answers a refused handshake itself

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


@lru_cache(maxsize=4096)
def _address(entry: str) -> str | None:
    """The address an `X-Forwarded-For` entry names: `ip`, `ip:port`, `[v6]` or `[v6]:port` (proxies
    write all four); None when it names none. Cached: the same clients and proxies come back."""
    text = entry.strip()
    if text.startswith("["):  # [v6] or [v6]:port
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port: str | None = rest[1:] if rest else None
    elif text.count(":") == 1:  # ip:port (a bare IPv6 address has several colons)
        host, _, port = text.partition(":")
    else:
        host, port = text, None
    if port is not None and not (port.isascii() and port.isdigit() and len(port) <= 5 and int(port) <= 65535):
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _trusted(address: str, trusted: tuple[str, ...]) -> bool | None:
    """Whether `address` is one of our proxies; None when it is no address at all. Cached: the same
    proxies and clients come back, and parsing an address costs more than the rest of `resolve`."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return any(ip in network for network in _networks(trusted))


def _header(scope: Scope, name: bytes) -> str | None:
    values = [value.decode("latin-1") for key, value in scope.get("headers", ()) if key == name]
    return ",".join(values) if values else None


def resolve(scope: Scope, trusted: tuple[str, ...]) -> tuple[str | None, str]:
    """(client address, scheme) of a connection whose peer is `scope["client"]`.

    From a trusted proxy, `X-Forwarded-For` is read right to left past the trusted hops: the first
    address no proxy of ours vouches for is the client (the entries left of it are whatever that
    client sent). An entry may carry a port (`ip:port`, `[v6]:port`). Anything unparsable stops the
    walk at the last trusted hop.

    `X-Forwarded-Proto` is read the same way: each of our proxies appends the scheme it was reached
    on, so the one that faced the client wrote the value as many places from the right as there are
    proxies of ours on the way; whatever stands left of it is the client's own claim. (A proxy that
    sets the header instead of appending leaves fewer values: the leftmost is then a proxy's.)
    """
    peer = (scope.get("client") or (None,))[0]
    scheme = scope.get("scheme") or ("ws" if scope["type"] == "websocket" else "http")
    if not trusted or not peer or not _trusted(peer, trusted):
        return peer, scheme
    client, proxies = peer, 0
    for hop in reversed((_header(scope, b"x-forwarded-for") or "").split(",")):
        address = _address(hop)
        if address is None:
            break
        proxies += 1  # `client` so far was a proxy of ours, which wrote this entry
        client = address
        if not _trusted(address, trusted):
            break
    protos = (_header(scope, b"x-forwarded-proto") or "").split(",")
    proto = protos[-min(max(proxies, 1), len(protos))].strip().lower()
    if proto in ("http", "https"):
        secure = proto == "https"
        scheme = ("wss" if secure else "ws") if scope["type"] == "websocket" else proto
    return client, scheme


def client_address(request: HttpRequest) -> str | None:
    """The client's address of a Django (or DRF) request, as decided by `resolve` at the edge."""
    return request.META.get("REMOTE_ADDR") or None


def _port(value: Any) -> int:
    """A port as the ASGI spec has it, a number (granian gives text)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class Edge:
    """ASGI middleware around the whole application (HTTP and WebSocket), and its lifespan."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.sockets: set[_Socket] = set()  # this process's open sockets
        self.stopping = False
        self._stop_task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        client, scheme = resolve(scope, tuple(settings.TRUSTED_PROXIES))
        port = _port((scope.get("client") or (None, 0))[1])
        scope = {**scope, "client": (client, port) if client else None, "scheme": scheme}
        if (server := scope.get("server")) and not isinstance(server[1], int | None):
            scope["server"] = (server[0], _port(server[1]))
        if scope["type"] == "websocket":
            return await self._socket(scope, receive, send)
        return await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """The server's lifespan (granian sends one; daphne none): the graceful shutdown is installed
        at startup, the exit hooks run at shutdown."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if _in_granian_worker():
                    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._on_sigterm)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.drain()  # sockets left (a stop by SIGINT): their clean-up, if the server still lets them
                run_exit_hooks()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _on_sigterm(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        logger.info("stopping: closing %d sockets with %d", len(self.sockets), CLOSE_SERVICE_RESTART)

        async def stop() -> None:
            try:
                await self.drain()
            finally:
                # granian's worker stops on SIGINT as on SIGTERM (its handler, replaced above for SIGTERM only)
                os.kill(os.getpid(), signal.SIGINT)

        self._stop_task = asyncio.get_running_loop().create_task(stop())

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Close every open socket with 1012 once it has answered the frame in hand and cleaned up;
        those that have not within `timeout` are closed anyway. New sockets are refused from now on."""
        self.stopping = True
        sockets = list(self.sockets)
        for socket in sockets:
            socket.stop()
        if sockets:
            waits = [asyncio.ensure_future(socket.ended.wait()) for socket in sockets]
            _, late = await asyncio.wait(waits, timeout=timeout)
            for wait in late:
                wait.cancel()
        for socket in sockets:
            await socket.close()  # those still busy after `timeout` (closed already: nothing to do)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.monotonic()
        response: dict[str, Any] = {"status": None, "size": 0}

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
            elif message["type"] == "http.response.body":
                response["size"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        finally:
            _log(scope, "", response["status"], response["size"], started)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Logged once when it opens, once when it ends; frames pass through `_Socket` (one call each).
        started = time.monotonic()
        _log(scope, "WSCONNECT ", None, None, started)
        socket = _Socket(receive, send, deny=DENIAL_RESPONSE in (scope.get("extensions") or {}))
        if self.stopping:  # this process is stopping: the client reconnects to another
            await receive()  # websocket.connect
            await socket.close()  # (accepted first: a close code needs an open socket)
            _log(scope, "WSDISCONNECT ", None, None, started)
            return
        self.sockets.add(socket)
        try:
            await self.app(scope, socket.receive, socket.send)
        finally:
            self.sockets.discard(socket)
            await socket.flush(DRAIN_SECONDS)  # the app's last frames (its close too): the server ends the connection
            if socket.stopping:  # before returning: a server closes a socket whose app returned, without a code
                await socket.close()
            socket.ended.set()
            _log(scope, "WSDISCONNECT ", None, None, started)


def run_exit_hooks() -> None:
    """A granian worker is a multiprocessing child: it leaves through os._exit, and exit hooks never
    run. The lifespan's shutdown is the last moment they can (the socket registry marks this process
    dead, so the others clear its sockets at once instead of after NODE_TTL_MS)."""
    atexit._run_exitfuncs()


def _in_granian_worker() -> bool:
    """Whether this process is a granian worker (granian loads the app after its own modules)."""
    return "granian._signals" in sys.modules


class _Socket(FramesInOrder):
    """One socket's receive and send, as the app sees them: a stopping process makes the app's
    next (or pending) receive a disconnect, so it finishes the frame in hand, cleans up and returns;
    the close frame (1012) is sent after that.

    Its messages reach the server one at a time, in the order they are sent (`FramesInOrder`)."""

    DISCONNECT = {"type": "websocket.disconnect", "code": CLOSE_SERVICE_RESTART}

    def __init__(self, receive: Receive, send: Send, *, deny: bool = False) -> None:
        super().__init__(send)
        self._receive = receive
        self.deny = deny  # the server takes a denial response for a close before accept
        self.stopping = False
        self.accepted = False
        self.closed = False  # a close frame was sent, or the client went away
        self.waiting: asyncio.Task[Any] | None = None  # the task awaiting the server's next message
        self.ended = asyncio.Event()

    async def receive(self) -> Message:
        if self.stopping:
            return self.DISCONNECT
        self.waiting = asyncio.current_task()
        try:
            message = await self._receive()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self.stopping and task is not None and task.cancelling() == 1:  # cancelled by stop() alone
                task.uncancel()
                return self.DISCONNECT
            raise
        finally:
            self.waiting = None
        if message["type"] == "websocket.disconnect":
            self.closed = True
        return message

    def send(self, message: Message) -> Awaitable[None]:
        # Nothing in flight: the server's own awaitable, no coroutine of ours per frame sent.
        if message["type"] != "websocket.send":
            if message["type"] == "websocket.close" and self.deny and not self.accepted and not self.closed:
                self.closed = True
                return self._refuse(message)
            self.accepted = self.accepted or message["type"] == "websocket.accept"
            self.closed = self.closed or message["type"] == "websocket.close"
        return self.send_in_order(message)

    async def _refuse(self, close: Message) -> None:
        """A close before accept as the handshake's HTTP answer: the status its code names, the
        reason in the one error shape (a browser sees a failed connection either way)."""
        code = close.get("code")
        status = HANDSHAKE_STATUS.get(code, 403) if isinstance(code, int) else 403
        reason = close.get("reason") or "refused"
        body = json.dumps(error_body(ERROR_CODE_OF_STATUS.get(status, CoreErrorCode.ERROR), reason)).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await self._send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await self._send({"type": "websocket.http.response.body", "body": body})

    def stop(self) -> None:
        self.stopping = True
        if self.waiting is not None:
            self.waiting.cancel()

    async def close(self) -> None:
        """The close frame a stopping process sends, unless the socket is closed already."""
        if self.closed:
            return
        self.closed = True
        try:  # (in turn: after the frames still being written)
            if not self.accepted:
                self.accepted = True
                await self.send({"type": "websocket.accept"})
            await self.send(
                {"type": "websocket.close", "code": CLOSE_SERVICE_RESTART, "reason": SERVICE_RESTART_REASON}
            )
            await self.flush(DRAIN_SECONDS)
        except Exception:  # the connection is gone already
            logger.debug("close frame not sent", exc_info=True)


def _log(scope: Scope, kind: str, status: int | None, size: int | None, started: float) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    client = (scope.get("client") or ("-",))[0]
    query = scope.get("query_string", b"").decode("latin-1")
    path = scope.get("path", "") + (f"?{query}" if query else "")
    method = scope.get("method", "GET") if not kind else kind.strip()
    duration_ms = round((time.monotonic() - started) * 1000, 1)
    # Tokens in `path` are masked by the log handler's filter (core.logging), like every other field.
    access_log.info(
        '%s "%s %s" %s %s %sms',
        client,
        method,
        path,
        status or "-",
        size if size is not None else "-",
        duration_ms,
        extra={
            "client": client,
            "method": method,
            "path": path,
            "status": status,
            "size": size,
            "duration_ms": duration_ms,
            "scheme": scope.get("scheme"),
        },
    )
