from django.http import StreamingHttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.models import User
from core.api.filters import MomentFilter
from core.errors import NotFound, PayloadTooLarge, UploadErrorCode, ValidationFailed
from core.exports import csv_lines
from core.pagination import CursorPagination
from core.uploads import limit_uploads
from leads import escalation, selectors, services
from leads.api import serializers as s
from leads.errors import LeadErrorCode
from leads.exports import EXPORT_COLUMNS, lead_export_row
from leads.imports import leads_import_csv
from leads.models import Lead, LeadSource, LeadStatus
from offices.selectors import office_get_for


class LeadFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=LeadStatus.choices)
    source = filters.MultipleChoiceFilter(choices=LeadSource.choices)
    office = filters.NumberFilter(field_name="office_id")
    assigned_to = filters.NumberFilter(field_name="assigned_to_id")
    created_after = MomentFilter(field_name="created_at", lookup_expr="gte")
    created_before = MomentFilter(field_name="created_at", lookup_expr="lt")
    q = filters.CharFilter(method="search", max_length=100)

    class Meta:
        model = Lead
        fields = ["status", "source", "office", "assigned_to", "created_after", "created_before", "q"]

    def search(self, queryset, name, value):
        office = getattr(self.request.user, "office", None) if self.request else None
        return selectors.lead_search(queryset, value, region=office.country if office is not None else "")


class LeadPagination(CursorPagination):
    ordering = ("-created_at", "-id")  # type: ignore[assignment]  # DRF takes a tuple (stubs: str)


def _office(user, office_id):
    if office_id is None:
        return None
    return office_get_for(user, office_id)


@extend_schema(tags=["leads"])
class LeadViewSet(viewsets.GenericViewSet):
    serializer_class = s.LeadSerializer
    filterset_class = LeadFilter
    pagination_class = LeadPagination

    def get_queryset(self):
        return selectors.lead_list_for(self.request.user)

    def get_object(self):
        return selectors.lead_get_for(self.request.user, self.kwargs["pk"])

    def _body(self, lead):
        return s.LeadSerializer(lead).data

    @extend_schema(responses={200: s.LeadSerializer(many=True)})
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.LeadSerializer(page, many=True).data)

    @extend_schema(responses={200: s.LeadSerializer})
    def retrieve(self, request, pk=None):
        return Response(self._body(self.get_object()))

    @extend_schema(request=s.LeadCreateSerializer, responses={201: s.LeadSerializer})
    def create(self, request):
        data = s.LeadCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["office"] = _office(request.user, fields.pop("office_id"))
        lead = services.lead_create(actor=request.user, **fields)
        return Response(self._body(lead), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.LeadUpdateSerializer, responses={200: s.LeadSerializer})
    def partial_update(self, request, pk=None):
        lead = self.get_object()
        data = s.LeadUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        new_status, lost_reason = fields.pop("status", None), fields.pop("lost_reason", "")
        lead = services.lead_update(actor=request.user, lead=lead, **fields)
        if new_status and new_status != lead.status:
            lead = services.lead_change_status(
                actor=request.user, lead=lead, status=new_status, lost_reason=lost_reason
            )
        return Response(self._body(lead))

    update = partial_update

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.lead_delete(actor=request.user, lead=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.LeadStatusSerializer, responses={200: s.LeadSerializer})
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request, pk=None):
        data = s.LeadStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lead = services.lead_change_status(actor=request.user, lead=self.get_object(), **data.validated_data)
        return Response(self._body(lead))

    @extend_schema(request=s.AssignSerializer, responses={200: s.LeadSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        lead = self.get_object()
        data = s.AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        consultant = User.objects.filter(pk=data.validated_data["consultant_id"]).first()
        if consultant is None:
            raise ValidationFailed("Unknown consultant.", code=LeadErrorCode.UNKNOWN_CONSULTANT)
        lead = services.lead_assign(actor=request.user, lead=lead, consultant=consultant)
        return Response(self._body(lead))

    @extend_schema(request=None, responses={200: s.LeadSerializer})
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        return Response(self._body(services.lead_convert(actor=request.user, lead=self.get_object())))

    @extend_schema(request=s.EscalateSerializer, responses={200: s.LeadSerializer})
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        data = s.EscalateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lead = self.get_object()
        conversation = escalation.lead_escalate(actor=request.user, lead=lead, note=data.validated_data["note"])
        return Response({**self._body(lead), "conversation_id": conversation.pk})

    @extend_schema(methods=["get"], responses={200: s.ActivitySerializer(many=True)})
    @extend_schema(methods=["post"], request=s.NoteSerializer, responses={201: s.ActivitySerializer})
    @action(detail=True, methods=["get", "post"])
    def activities(self, request, pk=None):
        lead = self.get_object()
        if request.method == "POST":
            data = s.NoteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            note = services.lead_add_note(actor=request.user, lead=lead, text=data.validated_data["text"])
            return Response(s.ActivitySerializer(note).data, status=status.HTTP_201_CREATED)
        paginator = CursorPagination()
        paginator.ordering = ("-created_at", "-id")
        page = paginator.paginate_queryset(selectors.activity_list(lead), request, view=self)
        return paginator.get_paginated_response(s.ActivitySerializer(page, many=True).data)

    @extend_schema(responses={(200, "text/csv"): str}, filters=True)
    @action(detail=False, methods=["get"])
    def export(self, request):
        leads = self.filter_queryset(self.get_queryset()).order_by("-created_at", "-id")
        response = StreamingHttpResponse(_csv_rows(leads), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="leads.csv"'
        return response

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}, "office_id": {"type": "integer"}},
                "required": ["file"],
            }
        },
        responses={200: s.ImportReportSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_csv(self, request):
        limit_uploads(request, max_files=1)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed("Send the CSV as `file`.", code=LeadErrorCode.NO_FILE)
        if upload.size > 5 * 1024 * 1024:
            raise PayloadTooLarge("Import files are at most 5 MB.", code=UploadErrorCode.FILE_TOO_LARGE)
        office_id = request.data.get("office_id")
        try:
            office = _office(request.user, int(office_id)) if office_id not in (None, "") else None
        except (TypeError, ValueError):
            raise NotFound("Office not found.") from None
        return Response(leads_import_csv(actor=request.user, data=upload.read(), office=office))


def _csv_rows(leads):
    return csv_lines(EXPORT_COLUMNS, (lead_export_row(lead) for lead in leads.iterator(chunk_size=500)))
