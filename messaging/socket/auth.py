"""Who is on the other end of a socket: the access JWT from `?token=` or `Authorization: Bearer`."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User


def token_from_scope(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0] if values else None


@database_sync_to_async
def user_for_token(raw: str | None):
    if not raw or len(raw) > 4096:
        return AnonymousUser()
    try:
        token = AccessToken(raw)
    except TokenError:
        return AnonymousUser()
    return User.objects.select_related("office").filter(pk=token.get("user_id"), is_active=True).first() or AnonymousUser()


def origin_from_scope(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin-1")
    return None


class JWTAuthMiddleware:
    """Puts `scope["user"]`; the consumer closes with 4401 when it is anonymous."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        scope = dict(scope, user=await user_for_token(token_from_scope(scope)))
        return await self.app(scope, receive, send)
