"""simplejwt's bearer-token authentication, with cheaper token checks and user lookup.

Every API request loads its user by the token's id. Through the ORM that statement is
compiled again on every request, which cost more CPU than the history page's own query
(bench/messaging_bench.py). Here the statement is built once from the model's columns and
the row becomes a user through `Model.from_db`, as the ORM itself does. The checks are
simplejwt's (`get_user`): unknown user, inactive user, and a token issued before the user's
password last changed (CHECK_REVOKE_TOKEN: the token carries a hash of the password hash, compared
with the row read on every request, so a password change or reset kills every access token).
Refusals are `token_expired` or `token_invalid` (core.errors), with a human message.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import DEFAULT_DB_ALIAS, connections
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework import exceptions
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow, get_md5_hash_password

from core.db import prepared_cursor
from core.errors import CoreErrorCode


class TokenInvalid(exceptions.AuthenticationFailed):
    """Malformed, forged, revoked (password changed), or its user is gone or inactive. A DRF exception,
    so DRF treats the request as unauthenticated; core.errors renders it in the one shape."""

    default_detail = "This token is not valid; sign in again."
    error_code = CoreErrorCode.TOKEN_INVALID


class TokenExpired(exceptions.AuthenticationFailed):
    default_detail = "This token has expired; refresh it or sign in again."
    error_code = CoreErrorCode.TOKEN_EXPIRED


def token_matches_user(token: Token, user: AbstractBaseUser) -> bool:
    """The user may use this token: active, and the password unchanged since it was issued."""
    if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
        return False
    if api_settings.CHECK_REVOKE_TOKEN:
        unchanged: bool = token.get(api_settings.REVOKE_TOKEN_CLAIM) == get_md5_hash_password(user.password)
        return unchanged
    return True


@cache
def _user_query() -> tuple[str, list[str]] | None:
    """(SELECT ... WHERE pk = %s, attnames), or None when a column needs the ORM's converters."""
    User = get_user_model()
    connection = connections[DEFAULT_DB_ALIAS]
    fields = User._meta.concrete_fields
    # (a model field is an expression to Django; the stubs type neither call for one)
    if any(connection.ops.get_db_converters(f) or f.get_db_converters(connection) for f in fields):  # type: ignore[arg-type, attr-defined]
        return None
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {', '.join(quote(f.column) for f in fields)} FROM {quote(User._meta.db_table)} "
        f"WHERE {quote(User._meta.pk.column)} = %s"
    )
    return sql, [f.attname for f in fields]


# Tokens this process has verified. The same bytes carry the same signature, so a repeat only
# needs its expiry checked again; verifying (base64, JSON, HMAC, claims) cost ~0.1 ms a request.
_verified: dict[bytes, Token] = {}
_VERIFIED_MAX = 10_000


class JWTAuthentication(authentication.JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> Token:
        token = _verified.get(raw_token)
        if token is not None:
            try:
                token.check_exp(current_time=aware_utcnow())  # simplejwt's check, with its leeway
                return token
            except TokenError:
                _verified.pop(raw_token, None)
                raise TokenExpired() from None
        token = self._decode(raw_token)
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        _verified[raw_token] = token
        return token

    @staticmethod
    def _decode(raw_token: bytes) -> Token:
        expired = False
        for token_class in api_settings.AUTH_TOKEN_CLASSES:
            try:
                token: Token = token_class(raw_token)
                return token
            except ExpiredTokenError:
                expired = True
            except TokenError:
                continue
        raise TokenExpired() if expired else TokenInvalid()

    # (simplejwt types the result with a type variable bound to nothing in the arguments)
    def get_user(self, validated_token: Token) -> AbstractBaseUser:  # type: ignore[override]
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        query = _user_query()
        if query is None or self.user_model._meta.pk.attname != api_settings.USER_ID_FIELD:
            try:
                user = self.user_model.objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
            except (TypeError, ValueError):
                raise TokenInvalid() from None
        else:
            sql, attnames = query
            try:
                user_id = int(user_id)
            except (TypeError, ValueError):
                raise TokenInvalid() from None  # simplejwt would pass it to the ORM and answer 500
            with prepared_cursor() as cursor:
                cursor.execute(sql, [user_id])
                row = cursor.fetchone()
            user = self.user_model.from_db(DEFAULT_DB_ALIAS, attnames, row) if row is not None else None
        if user is None or not token_matches_user(validated_token, user):
            raise TokenInvalid()
        return user


class JWTScheme(SimpleJWTScheme):  # type: ignore[no-untyped-call]  # drf-spectacular's registry hook is untyped
    """The OpenAPI security scheme of simplejwt's class (bearer JWT), for this subclass."""

    target_class = "core.authentication.JWTAuthentication"
