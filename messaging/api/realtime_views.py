"""REST views over the socket state: presence for first paint, and totals for staff."""

from asgiref.sync import async_to_sync
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_list_for
from core.errors import ValidationFailed
from messaging.models import Message
from messaging.selectors import contact_user_ids
from messaging.socket import registry


class PresenceView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("ids", str, description="Comma-separated user ids (at most 200)")],
        responses={200: inline_serializer("Presence", {"results": serializers.ListField(child=inline_serializer(
            "PresenceEntry", {"user_id": serializers.IntegerField(), "status": serializers.CharField(),
                              "last_seen": serializers.DateTimeField(allow_null=True)}))})},
        tags=["users"],
    )
    def get(self, request):
        try:
            ids = [int(part) for part in request.query_params.get("ids", "").split(",") if part.strip()]
        except ValueError:
            raise ValidationFailed("ids must be comma-separated user ids.", code="invalid_ids") from None
        if len(ids) > 200:
            raise ValidationFailed("Ask for at most 200 users at once.", code="too_many_ids")
        # Users you may see, or who share a conversation with you; others are silently left out.
        visible = {u.pk: u for u in user_list_for(request.user).filter(pk__in=ids)}
        shared = set(contact_user_ids(request.user)) & set(ids)
        from accounts.models import User

        for user in User.objects.filter(pk__in=shared - set(visible)):
            visible[user.pk] = user
        statuses = async_to_sync(registry.presence_of)(list(visible))
        return Response({"results": [
            {"user_id": pk, "status": statuses[pk], "last_seen": visible[pk].last_seen} for pk in ids if pk in visible
        ]})


class IsStaff(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class SocketStatsView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: inline_serializer("SocketStats", {
        "connected_users": serializers.IntegerField(), "sockets": serializers.IntegerField(),
        "active_conversations": serializers.IntegerField(), "messages_last_minute": serializers.IntegerField(),
    })}, tags=["service"])
    def get(self, request):
        totals = async_to_sync(registry.stats)()
        since = timezone.now() - timezone.timedelta(minutes=1)
        totals["messages_last_minute"] = Message.objects.filter(created_at__gte=since).count()
        return Response(totals)
