"""Google / Facebook sign-in through django-allauth, ending in a JWT pair without tokens in URLs.

1. `GET /api/v1/auth/<provider>` redirects into allauth, which sends the browser to the provider.
2. The provider calls allauth back; allauth signs the user into a short Django session and
   redirects to `auth/social/complete`.
3. That view swaps the session for a single-use code (60 s, in Redis) and redirects to
   `FRONTEND_URL/auth/callback?code=...`.
4. The client POSTs the code to `auth/social/exchange` and receives `{access, refresh, user}`.
"""

import secrets
from urllib.parse import urlencode

from allauth.socialaccount.adapter import get_adapter
from django.conf import settings
from django.contrib.auth import logout
from django.core.cache import cache
from django.http import HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import AuthResponseSerializer, SocialExchangeSerializer
from accounts.api.views import auth_body
from accounts.errors import AccountErrorCode
from accounts.models import User
from core.api.schema import error_response
from core.compression import carries_secrets
from core.errors import ApplicationError

CODE_TTL_SECONDS = 60


class ProviderNotConfigured(ApplicationError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = AccountErrorCode.PROVIDER_NOT_CONFIGURED


class InvalidSocialCode(ApplicationError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = AccountErrorCode.INVALID_CODE


def _provider_configured(request, provider: str) -> bool:
    try:
        return bool(get_adapter(request).list_apps(request, provider=provider))
    except LookupError:
        return False


def _code_key(code: str) -> str:
    return f"social-code:{code}"


class SocialLoginStartView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        responses={
            302: OpenApiResponse(description="Redirect to the provider"),
            400: error_response(AccountErrorCode.PROVIDER_NOT_CONFIGURED),
        },
        tags=["auth"],
    )
    def get(self, request, provider: str):
        if not _provider_configured(request, provider):
            raise ProviderNotConfigured(f"Sign-in with {provider.title()} is not configured on this server.")
        login_url = reverse(f"{provider}_login")
        complete = reverse("auth-social-complete")
        return HttpResponseRedirect(f"{login_url}?{urlencode({'process': 'login', 'next': complete})}")


def social_complete(request):
    """Allauth lands here with a signed-in session; hand the client a one-time code instead."""
    frontend = settings.FRONTEND_URL.rstrip("/") + "/auth/callback"
    if not request.user.is_authenticated or not request.user.is_active:
        return HttpResponseRedirect(f"{frontend}?{urlencode({'error': 'social_login_failed'})}")
    code = secrets.token_urlsafe(32)
    cache.set(_code_key(code), request.user.pk, CODE_TTL_SECONDS)
    logout(request)  # the API works with JWTs; no session is left behind
    return HttpResponseRedirect(f"{frontend}?{urlencode({'code': code})}")


class SocialExchangeView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=SocialExchangeSerializer, responses={200: AuthResponseSerializer}, tags=["auth"])
    def post(self, request):
        data = SocialExchangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = _code_key(data.validated_data["code"])
        user_id = cache.get(key)
        # delete() answers True for exactly one caller: the code works once.
        if user_id is None or not cache.delete(key):
            raise InvalidSocialCode("This sign-in code is invalid, expired or already used.")
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            raise InvalidSocialCode("This account is not active.")
        return carries_secrets(Response(auth_body(user)))
