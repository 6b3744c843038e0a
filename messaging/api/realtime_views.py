"""REST views over the socket state: presence for first paint, and totals for staff."""

from datetime import timedelta

from asgiref.sync import async_to_sync
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthedRequest
from core.errors import ValidationFailed
from messaging.errors import MessagingErrorCode
from messaging.selectors import messages_sent_since, presence_visible_users
from messaging.socket import registry


class PresenceView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("ids", str, description="Comma-separated user ids (at most 200)")],
        responses={
            200: inline_serializer(
                "Presence",
                {
                    "results": serializers.ListField(
                        child=inline_serializer(
                            "PresenceEntry",
                            {
                                "user_id": serializers.IntegerField(),
                                "status": serializers.CharField(),
                                "last_seen": serializers.DateTimeField(allow_null=True),
                            },
                        )
                    )
                },
            )
        },
        tags=["users"],
    )
    def get(self, request: AuthedRequest) -> Response:
        try:
            ids = [int(part) for part in request.query_params.get("ids", "").split(",") if part.strip()]
        except ValueError:
            raise ValidationFailed(
                "ids must be comma-separated user ids.", code=MessagingErrorCode.INVALID_IDS
            ) from None
        if len(ids) > 200:
            raise ValidationFailed("Ask for at most 200 users at once.", code=MessagingErrorCode.TOO_MANY_IDS)
        visible = presence_visible_users(request.user, ids)  # others are silently left out
        statuses = async_to_sync(registry.presence_of)(list(visible))
        return Response(
            {
                "results": [
                    {"user_id": pk, "status": statuses[pk], "last_seen": visible[pk].last_seen}
                    for pk in ids
                    if pk in visible
                ]
            }
        )


class IsStaff(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)  # type: ignore[truthy-bool]  # (DRF may set no user)


class SocketStatsView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        responses={
            200: inline_serializer(
                "SocketStats",
                {
                    "connected_users": serializers.IntegerField(),
                    "sockets": serializers.IntegerField(),
                    "active_conversations": serializers.IntegerField(),
                    "messages_last_minute": serializers.IntegerField(),
                },
            )
        },
        tags=["service"],
    )
    def get(self, request: AuthedRequest) -> Response:
        totals = async_to_sync(registry.stats)()
        totals["messages_last_minute"] = messages_sent_since(timezone.now() - timedelta(minutes=1))
        return Response(totals)
