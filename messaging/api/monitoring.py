"""The monitoring API: managers and super admins list the conversations they monitor, every listing audited."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthedRequest
from core.errors import Forbidden
from core.pagination import CursorPagination as BaseCursor
from messaging import events, selectors, services
from messaging.api import serializers as s
from messaging.models import AuditAction, Conversation
from offices.selectors import office_get_for


class MonitoringCursor(BaseCursor):
    ordering = ("-last_activity_at", "-id")  # type: ignore[assignment]  # as above
    page_size = 30


def _monitoring_page(request: AuthedRequest, view: APIView, conversations: QuerySet[Conversation]) -> Response:
    paginator = MonitoringCursor()
    page = paginator.paginate_queryset(conversations, request, view=view) or []
    return paginator.get_paginated_response(
        [events.conversation_payload(c, participants=c.participants.all()) for c in page]
    )


class MonitoringOfficeView(APIView):
    @extend_schema(responses={200: s.ConversationSerializer(many=True)}, tags=["monitoring"])
    def get(self, request: AuthedRequest, office_id: str) -> Response:
        office = office_get_for(request.user, office_id)
        if not selectors.monitors_conversations(request.user):
            raise Forbidden("Only managers and super admins monitor conversations.")
        services.monitoring_audit_record(actor=request.user, action=AuditAction.MONITOR_LIST, office_id=office.id)
        return _monitoring_page(request, self, selectors.monitoring_list(request.user, office_id=office.id))


class MonitoringAllView(APIView):
    @extend_schema(responses={200: s.ConversationSerializer(many=True)}, tags=["monitoring"])
    def get(self, request: AuthedRequest) -> Response:
        if not selectors.monitors_every_conversation(request.user):
            raise Forbidden("Only super admins monitor every office.")
        services.monitoring_audit_record(actor=request.user, action=AuditAction.MONITOR_LIST)
        return _monitoring_page(request, self, selectors.monitoring_list(request.user))


class MonitoringAuditView(APIView):
    @extend_schema(responses={200: s.AuditSerializer(many=True)}, tags=["monitoring"])
    def get(self, request: AuthedRequest) -> Response:
        if not selectors.monitors_every_conversation(request.user):
            raise Forbidden("Only super admins read the monitoring audit log.")
        paginator = BaseCursor()
        page = paginator.paginate_queryset(selectors.monitoring_audit_for(request.user), request, view=self) or []
        return paginator.get_paginated_response([events.audit_payload(audit) for audit in page])
