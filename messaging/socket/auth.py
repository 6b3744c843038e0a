"""Who is on the other end of a socket: the access JWT from `?token=` or `Authorization: Bearer`."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from core.asgi_types import ASGIApp, Receive, Scope, Send
from core.authentication import token_matches_user
from core.db import in_db_thread
from core.outages import DATABASE_ERRORS, database

if TYPE_CHECKING:
    from channels.consumer import _ChannelScope

# How the socket was signed in (scope[AUTH_KEY]): an access token, or the staff console's session cookie.
AUTH_KEY = "crm.auth"
BY_TOKEN = "token"
BY_SESSION = "session"
UNAVAILABLE = "unavailable"  # PostgreSQL could not be asked who it is: the consumer closes it with 4503


def token_from_scope(scope: Scope) -> str | None:
    name: bytes
    value: bytes
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    query: bytes = scope.get("query_string", b"")
    values = parse_qs(query.decode("latin-1")).get("token")
    return values[0] if values else None


@in_db_thread
def user_for_token(raw: str | None) -> User | AnonymousUser:
    if not raw or len(raw) > 4096:
        return AnonymousUser()
    try:
        token = AccessToken(raw)  # type: ignore[arg-type]  # simplejwt annotates the raw token as a Token
    except TokenError:
        return AnonymousUser()
    try:
        user = User.objects.select_related("office").filter(pk=token.get("user_id")).first()
    except (TypeError, ValueError):
        return AnonymousUser()
    # inactive, or the password changed since the token was issued: refused as over REST
    return user if user is not None and token_matches_user(token, user) else AnonymousUser()


def origin_from_scope(scope: Scope) -> str | None:
    name: bytes
    value: bytes
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin-1")
    return None


def _origin_key(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin, the default port filled in; None when it is not one."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


@lru_cache(maxsize=16)
def _allowed_keys(origins: tuple[str, ...]) -> frozenset[tuple[str, str, int]]:
    return frozenset(key for key in map(_origin_key, origins) if key is not None)


def origin_allowed(scope: Scope) -> bool:
    """A token socket: configured front-end origins, the server's own pages, or no Origin at all
    (mobile apps and servers send none; browsers always do). A socket signed in by the staff
    console's session cookie: the server's own pages only. The browser sends the cookie with any
    page's socket, so any other origin (the front end's included: any script there) would act with
    a staff member's console session. An origin is scheme, host and port: `http://own-host` is not
    `https://own-host`. The server's own scheme is the one the socket arrived on (wss behind a
    trusted TLS proxy, decided in core.edge)."""
    session = scope.get(AUTH_KEY) == BY_SESSION
    origin = origin_from_scope(scope)
    if origin is None:
        return not session
    key = _origin_key(origin)
    if key is None:
        return False
    if not session and key in _allowed_keys(tuple(settings.ALLOWED_WS_ORIGINS)):
        return True
    host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), None)
    own_scheme = "https" if scope.get("scheme") == "wss" else "http"
    return host is not None and key == _origin_key(f"{own_scheme}://{host}")


class SessionAuthMiddleware(AuthMiddleware):
    """Channels' session sign-in, which reads the session and its user from PostgreSQL: with the
    database down the socket is marked UNAVAILABLE (closed 4503 by the consumer) instead of the
    exception failing the handshake with an HTTP 500."""

    async def resolve_scope(self, scope: _ChannelScope) -> None:
        try:
            await super().resolve_scope(scope)
        except DATABASE_ERRORS as exc:
            database().failed("socket sign-in", exc)
            marked = cast(dict[str, Any], scope)  # (a key of our own: not in Channels' TypedDict)
            marked["user"], marked[AUTH_KEY] = AnonymousUser(), UNAVAILABLE


def socket_auth(inner: ASGIApp) -> ASGIApp:
    """Token sockets (apps) skip the session and cookie layers, which would otherwise run on
    every frame sent; cookie sockets (the staff console) go through them (Channels'
    AuthMiddlewareStack, with the session sign-in above)."""
    with_token: ASGIApp = JWTAuthMiddleware(inner)
    # (Channels types its stack as an application of any ASGI version; it is an ASGI 3 one)
    with_session: ASGIApp = CookieMiddleware(SessionMiddleware(SessionAuthMiddleware(JWTAuthMiddleware(inner))))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        chosen = with_token if token_from_scope(scope) is not None else with_session
        return await chosen(scope, receive, send)

    return app


class JWTAuthMiddleware:
    """Puts `scope["user"]`: the access token's user; without a token, the staff console's signed-in
    session user (set by Channels' AuthMiddleware around this one). 4401 when anonymous."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = token_from_scope(scope)
        if scope.get(AUTH_KEY) == UNAVAILABLE:
            pass  # the session could not be read (SessionAuthMiddleware)
        elif raw is not None or not getattr(scope.get("user"), "is_authenticated", False):
            try:
                scope = dict(scope, user=await user_for_token(raw), **{AUTH_KEY: BY_TOKEN})
            except DATABASE_ERRORS as exc:  # the token's user cannot be read: 4503, not an HTTP 500
                database().failed("socket sign-in", exc)
                scope = dict(scope, user=AnonymousUser(), **{AUTH_KEY: UNAVAILABLE})
        else:
            scope = dict(scope, **{AUTH_KEY: BY_SESSION})  # (origin_allowed holds these to the server's own pages)
        return await self.app(scope, receive, send)
