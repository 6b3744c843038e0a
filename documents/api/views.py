from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.errors import CoreErrorCode, ValidationFailed
from core.pagination import CursorPagination
from core.uploads import file_response, limit_uploads
from documents import selectors, services
from documents.errors import DocumentErrorCode
from documents.models import Document, DocumentKind, DocumentStatus


class DocumentSerializer(serializers.ModelSerializer):
    owner_id = serializers.IntegerField(read_only=True)
    student_id = serializers.IntegerField(read_only=True, allow_null=True)
    lead_id = serializers.IntegerField(read_only=True, allow_null=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "kind",
            "owner_id",
            "student_id",
            "lead_id",
            "status",
            "file_name",
            "mime_type",
            "size",
            "url",
            "review_note",
            "reviewed_at",
            "created_at",
        ]

    def get_url(self, document) -> str:
        return reverse("document-download", args=[document.pk])


class ReviewSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[DocumentStatus.APPROVED, DocumentStatus.REJECTED])
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class DocumentFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=DocumentKind.choices)
    status = filters.ChoiceFilter(choices=DocumentStatus.choices)
    student = filters.NumberFilter(field_name="student_id")
    lead = filters.NumberFilter(field_name="lead_id")

    class Meta:
        model = Document
        fields = ["kind", "status", "student", "lead"]


def _id(request, name: str) -> int | None:
    raw = request.data.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{name} must be an id.", code=CoreErrorCode.VALIDATION_ERROR) from None


@extend_schema(tags=["documents"])
class DocumentViewSet(viewsets.GenericViewSet):
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    pagination_class = CursorPagination

    def get_queryset(self):
        return selectors.document_list_for(self.request.user)

    def get_object(self):
        return selectors.document_get_for(self.request.user, self.kwargs["pk"])

    @extend_schema(responses={200: DocumentSerializer(many=True)})
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(DocumentSerializer(page, many=True).data)

    @extend_schema(responses={200: DocumentSerializer})
    def retrieve(self, request, pk=None):
        return Response(DocumentSerializer(self.get_object()).data)

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "kind": {"type": "string", "enum": DocumentKind.values},
                    "student_id": {"type": "integer"},
                    "lead_id": {"type": "integer"},
                },
                "required": ["file", "kind"],
            }
        },
        responses={201: DocumentSerializer},
    )
    def create(self, request):
        limit_uploads(request, max_files=1)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed("Send the file as `file`.", code=DocumentErrorCode.NO_FILE)
        student, lead = selectors.document_owner_for(
            request.user, student_id=_id(request, "student_id"), lead_id=_id(request, "lead_id")
        )
        document = services.document_upload(
            actor=request.user, file=upload, kind=request.data.get("kind", ""), student=student, lead=lead
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.document_delete(actor=request.user, document=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ReviewSerializer, responses={200: DocumentSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        data = ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = services.document_review(actor=request.user, document=self.get_object(), **data.validated_data)
        return Response(DocumentSerializer(document).data)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file"),
            302: OpenApiResponse(description="Signed S3 URL"),
        }
    )
    @action(detail=True, methods=["get"], url_name="download")
    def download(self, request, pk=None):
        document = self.get_object()
        return file_response(
            request, key=document.file_key, download_name=document.file_name, mime_type=document.mime_type
        )
