from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import error_response
from core.errors import CoreErrorCode
from core.pagination import CursorPagination
from devices import selectors, services
from devices.api.serializers import DeviceRegisterSerializer, DeviceSerializer, WebPushKeySerializer
from devices.errors import DeviceErrorCode
from devices.models import DeviceKind


class DevicesView(APIView):
    @extend_schema(responses={200: DeviceSerializer(many=True)}, tags=["devices"])
    def get(self, request):
        paginator = CursorPagination()
        page = paginator.paginate_queryset(selectors.device_list_for(request.user), request, view=self)
        return paginator.get_paginated_response(DeviceSerializer(page, many=True).data)

    @extend_schema(
        request=DeviceRegisterSerializer,
        responses={
            200: DeviceSerializer,
            201: DeviceSerializer,
            400: error_response(
                CoreErrorCode.VALIDATION_ERROR, DeviceErrorCode.ENDPOINT_NOT_ALLOWED, DeviceErrorCode.INVALID_DEVICE
            ),
        },
        tags=["devices"],
        description=(
            "Registers a push target for the signed-in user and this sign-in session (signing out removes "
            "it). 201 when new, 200 when the token was known (it is moved to the caller). Web Push "
            "endpoints must be under WEBPUSH_ALLOWED_ENDPOINTS (400 `endpoint_not_allowed`)."
        ),
    )
    def post(self, request):
        data = DeviceRegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        session_id = str((request.auth.get("sid") if request.auth is not None else None) or "")[:64]
        if fields["kind"] == DeviceKind.WEBPUSH:
            subscription = fields["subscription"]
            device, created = services.device_register(
                user=request.user,
                kind=DeviceKind.WEBPUSH,
                token=subscription["endpoint"],
                p256dh=subscription["keys"]["p256dh"],
                auth=subscription["keys"]["auth"],
                session_id=session_id,
            )
        else:
            device, created = services.device_register(
                user=request.user, kind=fields["kind"], token=fields["token"], session_id=session_id
            )
        return Response(
            DeviceSerializer(device).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class DeviceView(APIView):
    @extend_schema(request=None, responses={204: None, 404: error_response(CoreErrorCode.NOT_FOUND)}, tags=["devices"])
    def delete(self, request, device_id):
        services.device_delete(user=request.user, device_id=device_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebPushKeyView(APIView):
    @extend_schema(responses={200: WebPushKeySerializer}, tags=["devices"])
    def get(self, request):
        return Response({"public_key": settings.WEBPUSH_VAPID_PUBLIC_KEY or None})
