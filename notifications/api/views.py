from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import error_response
from core.errors import CoreErrorCode, ValidationFailed
from core.pagination import CursorPagination
from notifications import selectors, services
from notifications.errors import NotificationErrorCode
from notifications.preferences import CATEGORIES
from offices.selectors import office_get_for


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    # (a field named like a Serializer attribute: DRF's metaclass takes it off the class, the stubs do not know)
    data = serializers.DictField()  # type: ignore[assignment]
    read = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class AnnouncementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    office_id = serializers.IntegerField(allow_null=True)
    author_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class AnnouncementCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    office_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class NotificationsView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("unread", bool)],
        responses={200: NotificationSerializer(many=True)},
        tags=["notifications"],
    )
    def get(self, request):
        notifications = selectors.notification_list_for(request.user)
        if request.query_params.get("unread", "").lower() in ("1", "true", "yes"):
            notifications = notifications.filter(read_at__isnull=True)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(notifications, request, view=self)
        return paginator.get_paginated_response([services.notification_payload(n) for n in page])


class NotificationReadView(APIView):
    @extend_schema(request=None, responses={200: NotificationSerializer}, tags=["notifications"])
    def post(self, request, notification_id):
        return Response(
            services.notification_payload(
                services.notification_mark_read(user=request.user, notification_id=notification_id)
            )
        )


class NotificationsReadAllView(APIView):
    @extend_schema(
        request=None,
        responses={200: inline_serializer("MarkedRead", {"marked_read": serializers.IntegerField()})},
        tags=["notifications"],
    )
    def post(self, request):
        return Response({"marked_read": services.notifications_mark_all_read(user=request.user)})


class AnnouncementsView(APIView):
    @extend_schema(responses={200: AnnouncementSerializer(many=True)}, tags=["notifications"])
    def get(self, request):
        paginator = CursorPagination()
        page = paginator.paginate_queryset(selectors.announcement_list_for(request.user), request, view=self)
        return paginator.get_paginated_response([services.announcement_payload(a) for a in page])

    @extend_schema(
        request=AnnouncementCreateSerializer, responses={201: AnnouncementSerializer}, tags=["notifications"]
    )
    def post(self, request):
        data = AnnouncementCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        office = None
        if data.validated_data["office_id"] is not None:
            office = office_get_for(request.user, data.validated_data["office_id"])
        announcement = services.announcement_create(
            actor=request.user, title=data.validated_data["title"], body=data.validated_data["body"], office=office
        )
        return Response(services.announcement_payload(announcement), status=status.HTTP_201_CREATED)


class ChannelsSerializer(serializers.Serializer):
    push = serializers.BooleanField()
    email = serializers.BooleanField()


class ChannelsChangeSerializer(serializers.Serializer):
    push = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)


class QuietHoursSerializer(serializers.Serializer):
    start = serializers.CharField(help_text="HH:MM, the user's time zone")
    end = serializers.CharField(help_text="HH:MM; before start spans midnight")


def _preferences_serializer(name: str, *, partial: bool) -> type[serializers.Serializer]:
    channels = ChannelsChangeSerializer if partial else ChannelsSerializer
    fields: dict[str, serializers.Field] = {category: channels(required=not partial) for category in CATEGORIES}
    fields |= {
        "quiet_hours": QuietHoursSerializer(allow_null=True, required=not partial),
        "private_previews": serializers.BooleanField(required=not partial),
        "timezone": serializers.CharField(
            required=not partial, allow_blank=True, help_text="IANA name; empty: the office's time zone"
        ),
    }
    return type(name, (serializers.Serializer,), fields)


PreferencesSerializer = _preferences_serializer("NotificationPreferences", partial=False)
PreferencesChangeSerializer = _preferences_serializer("NotificationPreferencesChange", partial=True)


class NotificationPreferencesView(APIView):
    """What reaches the caller by push and email, per kind, with quiet hours and private previews."""

    @extend_schema(responses={200: PreferencesSerializer}, tags=["notifications"])
    def get(self, request):
        return Response(services.preferences_get(user=request.user).as_json())

    @extend_schema(
        request=PreferencesChangeSerializer,
        responses={
            200: PreferencesSerializer,
            400: error_response(NotificationErrorCode.INVALID_PREFERENCES, CoreErrorCode.PARSE_ERROR),
        },
        tags=["notifications"],
    )
    def patch(self, request):
        if not isinstance(request.data, dict):
            raise ValidationFailed("Send an object of preferences.", code=NotificationErrorCode.INVALID_PREFERENCES)
        return Response(services.preferences_update(user=request.user, changes=dict(request.data)).as_json())
