"""A person's data over REST: export (a ZIP now, or a background job and a short-lived link), erasure, legal hold."""

from __future__ import annotations

import tempfile

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthedRequest
from core.api.schema import error_response
from core.errors import CoreErrorCode
from core.uploads import file_response
from privacy import selectors, services
from privacy.api.serializers import (
    ErasureSerializer,
    ExportSerializer,
    LegalHoldSerializer,
    LegalHoldStateSerializer,
    ReasonSerializer,
)
from privacy.errors import PrivacyErrorCode
from privacy.models import ExportStatus, PersonalDataExport

ZIP = OpenApiResponse(
    OpenApiTypes.BINARY,
    description="A ZIP: a JSON file per area (profile, leads, appointments, documents, messages, notifications, "
    "...), the documents' and sent files, and a README explaining each file.",
)


def _export_body(request: Request, export: PersonalDataExport) -> dict[str, object]:
    path = reverse("privacy-export-status", kwargs={"user_id": export.subject_id, "export_id": export.pk})
    export.status_url = request.build_absolute_uri(path)  # type: ignore[attr-defined]  # rendered, not stored
    ready = export.status == ExportStatus.READY
    link = services.export_link(export, actor=request.user) if ready else None  # type: ignore[arg-type]
    export.download_url = request.build_absolute_uri(link) if link else None  # type: ignore[attr-defined]
    return dict(ExportSerializer(export).data)


class PersonalExportView(APIView):
    @extend_schema(
        tags=["privacy"],
        operation_id="users_export",
        description="Everything held about a person, for the person themself, their office's managers and the "
        "super admin (404 for a person you may not see, 403 for one you see but may not export). Small "
        "exports answer the ZIP at once; larger ones answer 202 with a job to poll. Every export is audited.",
        responses={
            (200, "application/zip"): ZIP,
            (202, "application/json"): ExportSerializer,
            409: error_response(PrivacyErrorCode.ALREADY_ERASED),
        },
    )
    def get(self, request: AuthedRequest, user_id: str) -> Response | FileResponse:
        subject = selectors.export_subject_get_for(request.user, user_id)
        export = services.personal_export_request(actor=request.user, subject=subject)
        if export is not None:
            return Response(_export_body(request, export), status=status.HTTP_202_ACCEPTED)
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
        services.export_write(subject=subject, out=spool)
        spool.seek(0)
        response = FileResponse(
            spool, as_attachment=True, filename=f"personal-data-{subject.pk}.zip", content_type="application/zip"
        )
        response["Cache-Control"] = "private, no-store"
        return response


class ExportStatusView(APIView):
    @extend_schema(tags=["privacy"], responses={200: ExportSerializer})
    def get(self, request: AuthedRequest, user_id: str, export_id: str) -> Response:
        export = selectors.export_get_for(request.user, user_id, export_id)
        return Response(_export_body(request, export))


class DownloadQuerySerializer(serializers.Serializer[None]):
    token = serializers.CharField(max_length=512, help_text="From the export's `download_url`.")


class ExportDownloadView(APIView):
    """The link works without a bearer token (a browser follows it): the signed token is the authority."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["privacy"],
        auth=[],
        parameters=[DownloadQuerySerializer],
        responses={
            (200, "application/zip"): ZIP,
            403: error_response(PrivacyErrorCode.EXPORT_LINK_EXPIRED),
            409: error_response(PrivacyErrorCode.EXPORT_NOT_READY),
        },
    )
    def get(self, request: Request, user_id: str, export_id: str) -> FileResponse:
        query = DownloadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        export = services.export_from_link(user_id=int(user_id), export_id=int(export_id), token=query.data["token"])
        return file_response(  # type: ignore[return-value]  # a FileResponse, or S3's signed URL
            request,
            key=export.file_key,
            download_name=f"personal-data-{export.subject_id}.zip",
            mime_type="application/zip",
        )


class PersonEraseView(APIView):
    @extend_schema(
        tags=["privacy"],
        operation_id="users_erase",
        description="Super admin only. Removes what identifies the person everywhere (name, email, phone, profile, "
        "documents and their files, the text and files of their messages, which stay as removed with their "
        "`seq`), closes their sockets and revokes every token; the audit and report numbers stay, "
        "pseudonymised. Final, and audited with who, when and why.",
        request=ReasonSerializer,
        responses={
            200: ErasureSerializer,
            403: error_response(CoreErrorCode.PERMISSION_DENIED, PrivacyErrorCode.CANNOT_ERASE_SELF),
            409: error_response(
                PrivacyErrorCode.LEGAL_HOLD, PrivacyErrorCode.LAST_SUPER_ADMIN, PrivacyErrorCode.ALREADY_ERASED
            ),
        },
    )
    def post(self, request: AuthedRequest, user_id: str) -> Response:
        person = selectors.erase_subject_get_for(request.user, user_id)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        audit = services.person_erase(actor=request.user, person=person, reason=data.validated_data["reason"])
        body = {"user_id": person.pk, "erased_at": audit.created_at, "removed": audit.details["removed"]}
        return Response(ErasureSerializer(body).data)


class LegalHoldView(APIView):
    @extend_schema(tags=["privacy"], responses={200: LegalHoldStateSerializer})
    def get(self, request: AuthedRequest, user_id: str) -> Response:
        person = selectors.legal_hold_subject_get_for(request.user, user_id)
        return Response({"user_id": person.pk, "legal_hold": person.legal_hold})

    @extend_schema(
        tags=["privacy"],
        description="Super admin only: while set, the person cannot be erased. Audited with the reason.",
        request=LegalHoldSerializer,
        responses={200: LegalHoldStateSerializer, 409: error_response(PrivacyErrorCode.ALREADY_ERASED)},
    )
    def put(self, request: AuthedRequest, user_id: str) -> Response:
        person = selectors.legal_hold_subject_get_for(request.user, user_id)
        data = LegalHoldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        person = services.legal_hold_set(actor=request.user, person=person, **data.validated_data)
        return Response({"user_id": person.pk, "legal_hold": person.legal_hold})
