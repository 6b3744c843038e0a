from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts import selectors, services
from accounts.api import serializers as s
from accounts.errors import AccountErrorCode
from accounts.lockout import locked_error
from accounts.models import Role, User
from accounts.throttles import LoginAccountThrottle, LoginAddressThrottle, PasswordResetThrottle
from core.api.schema import error_response
from core.compression import carries_secrets
from core.errors import ApplicationError, CoreErrorCode


class InvalidCredentials(ApplicationError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = AccountErrorCode.INVALID_CREDENTIALS


class InvalidToken(ApplicationError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = CoreErrorCode.TOKEN_INVALID


def refresh_refused(exc: Exception) -> InvalidToken:
    if isinstance(exc, ExpiredTokenError):
        return InvalidToken("This refresh token has expired; sign in again.", code=CoreErrorCode.TOKEN_EXPIRED)
    return InvalidToken("This refresh token is not valid (used, revoked or malformed); sign in again.")


def access_lifetime() -> int:
    """Seconds an access token lives: the `expires_in` of every answer that hands out tokens."""
    return int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds())


def token_pair(user: User) -> dict:
    refresh = services.session_start(user=user)
    return {"access": str(refresh.access_token), "refresh": str(refresh), "expires_in": access_lifetime()}


def auth_body(user: User) -> dict:
    return {**token_pair(user), "user": s.UserSerializer(user).data}


class SignupView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.SignupSerializer, responses={201: s.AuthResponseSerializer}, tags=["auth"])
    def post(self, request):
        data = s.SignupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.student_signup(**data.validated_data)
        return carries_secrets(Response(auth_body(user), status=status.HTTP_201_CREATED))


class LoginView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [LoginAddressThrottle, LoginAccountThrottle]

    @extend_schema(
        request=s.LoginSerializer,
        responses={
            200: s.AuthResponseSerializer,
            400: error_response(CoreErrorCode.VALIDATION_ERROR, CoreErrorCode.PARSE_ERROR),
            401: error_response(AccountErrorCode.INVALID_CREDENTIALS),
            429: error_response(CoreErrorCode.THROTTLED, AccountErrorCode.LOGIN_LOCKED),
        },
        tags=["auth"],
    )
    def post(self, request):
        data = s.LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Through django-axes (accounts/lockout.py): failures here count with the console's.
        user = authenticate(request, email=data.validated_data["email"], password=data.validated_data["password"])
        if getattr(request, "axes_locked_out", False):
            raise locked_error()
        if user is None or not user.is_active:
            raise InvalidCredentials("Email or password is wrong.")
        user_logged_in.send(sender=user.__class__, request=request, user=user)  # last_login; clears the failures
        return carries_secrets(Response(auth_body(user)))


class RefreshView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=s.RefreshSerializer,
        tags=["auth"],
        responses={
            200: s.TokenPairSerializer,
            400: error_response(CoreErrorCode.VALIDATION_ERROR),
            401: error_response(CoreErrorCode.TOKEN_INVALID, CoreErrorCode.TOKEN_EXPIRED),
        },
    )
    def post(self, request):
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        serializer = TokenRefreshSerializer(data=data.validated_data)
        try:
            with transaction.atomic():
                serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise refresh_refused(exc) from None
        except (AuthenticationFailed, ObjectDoesNotExist) as exc:  # the user is inactive or gone
            raise refresh_refused(exc) from None
        return carries_secrets(Response({**serializer.validated_data, "expires_in": access_lifetime()}))


class LogoutView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=s.RefreshSerializer,
        tags=["auth"],
        responses={
            204: None,
            400: error_response(CoreErrorCode.VALIDATION_ERROR),
            401: error_response(CoreErrorCode.TOKEN_INVALID, CoreErrorCode.TOKEN_EXPIRED),
        },
    )
    def post(self, request):
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.session_end(refresh=data.validated_data["refresh"])
        except TokenError as exc:
            raise refresh_refused(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses={200: s.UserSerializer}, tags=["auth"])
    def get(self, request):
        return Response(s.UserSerializer(request.user).data)

    @extend_schema(request=s.ProfileUpdateSerializer, responses={200: s.UserSerializer}, tags=["auth"])
    def patch(self, request):
        data = s.ProfileUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.profile_update(user=request.user, **data.validated_data)
        return Response(s.UserSerializer(user).data)


class PasswordChangeView(APIView):
    @extend_schema(
        request=s.PasswordChangeSerializer,
        tags=["auth"],
        responses={
            200: OpenApiResponse(
                s.TokenPairSerializer, description="A new pair: every other token of the user is revoked."
            ),
            400: error_response(
                AccountErrorCode.WRONG_PASSWORD, AccountErrorCode.WEAK_PASSWORD, CoreErrorCode.VALIDATION_ERROR
            ),
            401: error_response(
                CoreErrorCode.NOT_AUTHENTICATED, CoreErrorCode.TOKEN_INVALID, CoreErrorCode.TOKEN_EXPIRED
            ),
            429: error_response(AccountErrorCode.LOGIN_LOCKED, CoreErrorCode.THROTTLED),
        },
    )
    def post(self, request):
        data = s.PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.password_change(user=request.user, request=request, **data.validated_data)
        return carries_secrets(Response(token_pair(user)))


class PasswordResetView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [LoginAddressThrottle, PasswordResetThrottle]

    @extend_schema(
        request=s.PasswordResetSerializer,
        responses={
            202: OpenApiResponse(
                description="Accepted, whether or not an account has this email: if one "
                "does, a reset email with a single-use, expiring code is on its way."
            ),
            400: error_response(CoreErrorCode.VALIDATION_ERROR, CoreErrorCode.PARSE_ERROR),
            429: error_response(CoreErrorCode.THROTTLED),
        },
        tags=["auth"],
    )
    def post(self, request):
        data = s.PasswordResetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(email=data.validated_data["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [LoginAddressThrottle]

    @extend_schema(
        request=s.PasswordResetConfirmSerializer,
        responses={
            204: OpenApiResponse(description="Password set; every session of the account is signed out."),
            400: error_response(
                AccountErrorCode.RESET_CODE_INVALID,
                AccountErrorCode.WEAK_PASSWORD,
                CoreErrorCode.VALIDATION_ERROR,
                CoreErrorCode.PARSE_ERROR,
            ),
            429: error_response(CoreErrorCode.THROTTLED),
        },
        tags=["auth"],
    )
    def post(self, request):
        data = s.PasswordResetConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserFilter(filters.FilterSet):
    role = filters.ChoiceFilter(choices=Role.choices)
    office = filters.NumberFilter(field_name="office_id")
    is_active = filters.BooleanFilter()
    q = filters.CharFilter(method="search", max_length=100)

    class Meta:
        model = User
        fields = ["role", "office", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(email__icontains=value) | Q(first_name__icontains=value) | Q(last_name__icontains=value)
        )


@extend_schema(tags=["users"])
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ManagedUserSerializer
    filterset_class = UserFilter
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return selectors.user_list_for(self.request.user)

    def get_object(self):
        return selectors.user_get_for(self.request.user, self.kwargs["pk"])

    @extend_schema(request=s.UserCreateSerializer, responses={201: s.ManagedUserSerializer})
    def create(self, request):
        data = s.UserCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        user = services.user_create(actor=request.user, **data.validated_data)
        return Response(s.ManagedUserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.UserUpdateSerializer, responses={200: s.ManagedUserSerializer})
    def partial_update(self, request, pk=None):
        user = self.get_object()
        data = s.UserUpdateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        user = services.user_update(actor=request.user, user=user, **data.validated_data)
        return Response(s.ManagedUserSerializer(user).data)

    @extend_schema(request=s.UserUpdateSerializer, responses={200: s.ManagedUserSerializer})
    def update(self, request, pk=None):
        return self.partial_update(request, pk)

    @extend_schema(request=None, responses={204: None}, description="Deactivates the user (the row stays).")
    def destroy(self, request, pk=None):
        services.user_deactivate(actor=request.user, user=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: s.ManagedUserSerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        user = services.user_deactivate(actor=request.user, user=self.get_object())
        return Response(s.ManagedUserSerializer(user).data)

    @extend_schema(request=None, responses={200: s.ManagedUserSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        user = services.user_activate(actor=request.user, user=self.get_object())
        return Response(s.ManagedUserSerializer(user).data)
