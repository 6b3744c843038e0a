"""The canned replies API: a user's own short answers, and their office's shared ones (docs/messaging.md)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthedRequest
from core.db import BIGINT_MAX
from core.errors import CoreErrorCode, ValidationFailed
from core.pagination import CursorPagination as BaseCursor
from messaging import selectors, services
from messaging.api import serializers as s
from messaging.models import CannedReply
from offices.selectors import office_get_for


class CannedRepliesView(APIView):
    """The canned replies of your office (a super admin: every office's, `?office=` for one); the office's
    managers and super admins add them. Students have none."""

    @extend_schema(
        parameters=[OpenApiParameter("office", int), OpenApiParameter("limit", int)],
        responses={200: s.CannedReplySerializer(many=True)},
        tags=["canned replies"],
    )
    def get(self, request: AuthedRequest) -> Response:
        replies = selectors.canned_replies_for(request.user)
        office = request.query_params.get("office")
        if office is not None:
            if not office.isdigit() or int(office) > BIGINT_MAX:
                raise ValidationFailed("office is an office id.", code=CoreErrorCode.VALIDATION_ERROR)
            replies = replies.filter(office_id=int(office))  # (within what the selector lets through)
        paginator = CannedReplyCursor()
        page = paginator.paginate_queryset(replies, request, view=self) or []
        return paginator.get_paginated_response([_canned(reply) for reply in page])

    @extend_schema(
        request=s.CannedReplyCreateSerializer, responses={201: s.CannedReplySerializer}, tags=["canned replies"]
    )
    def post(self, request: AuthedRequest) -> Response:
        data = s.validated(s.CannedReplyCreateSerializer, request.data)
        office_id = data.get("office_id") or request.user.office_id
        if office_id is None:
            raise ValidationFailed("Name the office (office_id).", code=CoreErrorCode.VALIDATION_ERROR)
        reply = services.canned_reply_create(
            actor=request.user,
            office=office_get_for(request.user, office_id),
            shortcut=data["shortcut"],
            content=data["content"],
        )
        return Response(_canned(reply), status=status.HTTP_201_CREATED)


class CannedReplyDetailView(APIView):
    @extend_schema(responses={200: s.CannedReplySerializer}, tags=["canned replies"])
    def get(self, request: AuthedRequest, reply_id: str) -> Response:
        return Response(_canned(selectors.canned_reply_get_for(request.user, reply_id)))

    @extend_schema(
        request=s.CannedReplyUpdateSerializer, responses={200: s.CannedReplySerializer}, tags=["canned replies"]
    )
    def patch(self, request: AuthedRequest, reply_id: str) -> Response:
        reply = selectors.canned_reply_get_for(request.user, reply_id)
        data = s.validated(s.CannedReplyUpdateSerializer, request.data)
        return Response(_canned(services.canned_reply_update(actor=request.user, reply=reply, **data)))

    @extend_schema(responses={204: None}, tags=["canned replies"])
    def delete(self, request: AuthedRequest, reply_id: str) -> Response:
        services.canned_reply_delete(actor=request.user, reply=selectors.canned_reply_get_for(request.user, reply_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CannedReplyCursor(BaseCursor):
    ordering = ("shortcut", "id")  # type: ignore[assignment]  # DRF takes a tuple (stubs: str)
    page_size = 100


def _canned(reply: CannedReply) -> dict[str, Any]:
    return {
        "id": reply.pk,
        "office_id": reply.office_id,
        "shortcut": reply.shortcut,
        "content": reply.content,
        "updated_at": reply.updated_at.isoformat(),
    }
