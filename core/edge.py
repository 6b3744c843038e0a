"""What every HTTP request and socket goes through before the app: who the client is, and the access log.

The client's address and scheme are decided once, here, from the connection: a request that
came from an address in `TRUSTED_PROXIES` takes them from that proxy's `X-Forwarded-For` and
`X-Forwarded-Proto`; anyone else's headers are ignored. The decision is written into the ASGI
scope, so Django's `REMOTE_ADDR` and `request.scheme`, the socket's `scope["client"]`, the
throttles, the login lockout and the access log all see the same client (`client_address`).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core.asgi_types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("crm.access")

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


class Edge:
    """ASGI middleware around the whole application (HTTP and WebSocket)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        client, scheme = resolve(scope, tuple(settings.TRUSTED_PROXIES))
        port = (scope.get("client") or (None, 0))[1]
        scope = {**scope, "client": (client, port) if client else None, "scheme": scheme}
        if scope["type"] == "websocket":
            return await self._socket(scope, receive, send)
        return await self._http(scope, receive, send)

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
        # Frames are not wrapped (the socket's hot path): one line when it opens, one when it ends.
        started = time.monotonic()
        _log(scope, "WSCONNECT ", None, None, started)
        try:
            await self.app(scope, receive, send)
        finally:
            _log(scope, "WSDISCONNECT ", None, None, started)


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
