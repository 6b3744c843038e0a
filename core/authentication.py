"""simplejwt's bearer-token authentication, with cheaper token checks and user lookup.

Every API request loads its user by the token's id. Through the ORM that statement is
compiled again on every request, which cost more CPU than the history page's own query
(bench/messaging_bench.py). Here the statement is built once from the model's columns and
the row becomes a user through `Model.from_db`, as the ORM itself does. The checks are
simplejwt's (`get_user`): unknown user, inactive user, revoked token.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import aware_utcnow

from core.db import prepared_cursor


@cache
def _user_query():
    """(SELECT ... WHERE pk = %s, attnames), or None when a column needs the ORM's converters."""
    User = get_user_model()
    connection = connections[DEFAULT_DB_ALIAS]
    fields = User._meta.concrete_fields
    if any(connection.ops.get_db_converters(f) or f.get_db_converters(connection) for f in fields):
        return None
    quote = connection.ops.quote_name
    sql = (f"SELECT {', '.join(quote(f.column) for f in fields)} FROM {quote(User._meta.db_table)} "
           f"WHERE {quote(User._meta.pk.column)} = %s")
    return sql, [f.attname for f in fields]


# Tokens this process has verified. The same bytes carry the same signature, so a repeat only
# needs its expiry checked again; verifying (base64, JSON, HMAC, claims) cost ~0.1 ms a request.
_verified: dict = {}
_VERIFIED_MAX = 10_000


class JWTAuthentication(authentication.JWTAuthentication):
    def get_validated_token(self, raw_token):
        token = _verified.get(raw_token)
        if token is not None:
            try:
                token.check_exp(current_time=aware_utcnow())  # simplejwt's check, with its leeway
                return token
            except TokenError:
                _verified.pop(raw_token, None)  # and simplejwt refuses it below, as usual
        token = super().get_validated_token(raw_token)
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        _verified[raw_token] = token
        return token

    def get_user(self, validated_token):
        query = _user_query()
        if query is None or api_settings.USER_ID_FIELD != self.user_model._meta.pk.attname:
            return super().get_user(validated_token)
        sql, attnames = query
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            # simplejwt would pass it to the ORM and answer 500
            raise InvalidToken(_("Token contained no recognizable user identification")) from None
        with prepared_cursor() as cursor:
            cursor.execute(sql, [user_id])
            row = cursor.fetchone()
        if row is None:
            return super().get_user(validated_token)  # raises user_not_found
        user = self.user_model.from_db(DEFAULT_DB_ALIAS, attnames, row)
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            return super().get_user(validated_token)  # raises user_inactive
        if api_settings.CHECK_REVOKE_TOKEN:
            return super().get_user(validated_token)
        return user


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of simplejwt's class (bearer JWT), for this subclass."""

    target_class = "core.authentication.JWTAuthentication"
