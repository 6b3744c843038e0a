"""Web Push: posted only to the push services in WEBPUSH_ALLOWED_ENDPOINTS, never anywhere else.

A browser hands us an endpoint URL and we post to it, so the endpoint is attacker-chosen input. Three
gates, so that no request leaves for a host an operator did not list (SSRF):

1. Registration (`endpoint_allowed`): the URL must sit under one of the prefixes, compared on the parsed
   URL (scheme, host, port, path), with no user info, backslashes, control characters or dot segments
   (`https://fcm.googleapis.com@evil.example/`, `https://fcm.googleapis.com.evil.example/` fail).
2. Send time: the stored endpoint is checked again (the list may have shrunk), and the connection is
   made by `_GuardedConnection`, which resolves the host itself and connects only to an address it
   checked: public addresses for a host name (a listed name whose DNS now answers 127.0.0.1 or
   10.0.0.5 is refused: DNS rebinding), the address itself where the list names an IP.
3. No redirects (a push service answering 307 to elsewhere is a failed send), no proxies from the
   environment (a proxy would be connected to instead of the checked address).

The payload is encrypted for the subscription's keys and signed with our VAPID key by pywebpush.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

MAX_ENDPOINT_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}


class EndpointRefused(Exception):
    """The endpoint is not under WEBPUSH_ALLOWED_ENDPOINTS, or its host resolves where it may not go."""


def _parts(url: str) -> tuple[str, str, int, str] | None:
    if len(url) > MAX_ENDPOINT_LENGTH or any(ord(c) < 33 or c == "\\" for c in url):
        return None
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError:
        return None
    if split.scheme not in _DEFAULT_PORTS or not split.hostname or split.username or split.password:
        return None
    if "@" in split.netloc:
        return None
    path = split.path or "/"
    if any(segment in (".", "..") for segment in path.split("/")) or "%2e" in path.lower():
        return None
    return split.scheme, split.hostname.lower(), port or _DEFAULT_PORTS[split.scheme], path


@lru_cache(maxsize=4)
def _allowed_prefixes(prefixes: tuple[str, ...]) -> list[tuple[str, str, int, str]]:
    return [parts for parts in map(_parts, prefixes) if parts is not None]


def _prefix_for(url: str) -> tuple[str, str, int, str] | None:
    parts = _parts(url)
    if parts is None:
        return None
    scheme, host, port, path = parts
    for allowed in _allowed_prefixes(tuple(settings.WEBPUSH_ALLOWED_ENDPOINTS)):
        a_scheme, a_host, a_port, a_path = allowed
        if (scheme, host, port) == (a_scheme, a_host, a_port) and path.startswith(a_path):
            return allowed
    return None


def endpoint_allowed(url: str) -> bool:
    return _prefix_for(url) is not None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def checked_addresses(host: str, port: int) -> list[tuple[Any, ...]]:
    """The socket addresses a connection to `host` may use. An IP address is used as it is (it was
    allowed as written, gate 1); a name's every address must be public, or none is used."""
    if _is_ip(host):
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
        return [info[4] for info in infos]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [info[4] for info in infos]
    for address in addresses:
        if not ipaddress.ip_address(address[0]).is_global:
            raise EndpointRefused(f"{host} resolves to a non-public address")
    return addresses


class _GuardedConnectionMixin:
    host: str
    port: int
    timeout: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        try:
            addresses = checked_addresses(self.host, self.port)
        except socket.gaierror as exc:
            raise NewConnectionError(self, f"name resolution failed: {exc}") from exc  # type: ignore[arg-type]
        last_error: OSError | None = None
        for address in addresses:  # the checked addresses only; TLS still verifies the host name
            try:
                return urllib3.util.connection.create_connection(
                    address[:2], self.timeout, socket_options=self.socket_options
                )
            except OSError as exc:
                last_error = exc
        raise NewConnectionError(self, f"could not connect: {last_error}")  # type: ignore[arg-type]


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if not endpoint_allowed(request.url or ""):
            raise EndpointRefused("endpoint not under WEBPUSH_ALLOWED_ENDPOINTS")
        return super().send(request, *args, **kwargs)


def guarded_session() -> requests.Session:
    """A session that posts only to allowed, checked addresses, follows no redirect, uses no proxy."""
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = 0
    adapter = _GuardedAdapter(pool_connections=4, pool_maxsize=8, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
