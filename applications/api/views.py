from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from applications import selectors, services
from applications.checklists import checklist_for
from applications.errors import ApplicationErrorCode
from applications.representation import ApplicationSerializer, ChecklistSerializer
from applications.transitions import ApplicationStatus
from applications.validation import (
    ApplicationChangeSerializer,
    ApplicationCreateSerializer,
    TransitionInputSerializer,
    clean,
)
from catalogue.selectors import course_get_for
from core.errors import NotFound, ValidationFailed
from core.pagination import CursorPagination
from students.selectors import student_and_consultant_named
from study.serializers import CountryField, IntakeField
from study.vocabulary import parse_intake


class ApplicationQuerySerializer(serializers.Serializer):
    status = serializers.MultipleChoiceField(choices=ApplicationStatus.choices, required=False)
    student = serializers.IntegerField(min_value=1, required=False)
    consultant = serializers.IntegerField(min_value=1, required=False)
    office = serializers.IntegerField(min_value=1, required=False)
    course = serializers.IntegerField(min_value=1, required=False)
    intake = IntakeField(required=False)
    country = CountryField(required=False, help_text="Destination, ISO 3166 alpha-2")


class ApplicationPagination(CursorPagination):
    ordering = ("-id",)  # type: ignore[assignment]  # DRF takes a tuple (stubs: str)


def _body(application) -> dict:
    return ApplicationSerializer(application).data


@extend_schema(tags=["applications"])
class ApplicationViewSet(viewsets.GenericViewSet):
    serializer_class = ApplicationSerializer
    pagination_class = ApplicationPagination

    def get_queryset(self):
        return selectors.application_list_for(self.request.user)

    def get_object(self):
        return selectors.application_get_for(self.request.user, self.kwargs["pk"])

    def _fresh(self, application):
        return selectors.application_get_for(self.request.user, application.pk)

    @extend_schema(parameters=[ApplicationQuerySerializer], responses={200: ApplicationSerializer(many=True)})
    def list(self, request):
        query = ApplicationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        asked = query.validated_data
        filters = selectors.ApplicationFilters(
            status=tuple(asked.get("status") or ()),
            student_id=asked.get("student"),
            consultant_id=asked.get("consultant"),
            office_id=asked.get("office"),
            course_id=asked.get("course"),
            intake=parse_intake(asked["intake"]) if asked.get("intake") else None,
            destination=asked.get("country"),
        )
        applications = selectors.applications_filtered(selectors.application_list_for(request.user), filters)
        page = self.paginate_queryset(applications)
        return self.get_paginated_response(ApplicationSerializer(page, many=True).data)

    @extend_schema(responses={200: ApplicationSerializer})
    def retrieve(self, request, pk=None):
        return Response(_body(self.get_object()))

    @extend_schema(request=ApplicationCreateSerializer, responses={201: ApplicationSerializer})
    def create(self, request):
        asked = clean(ApplicationCreateSerializer, request.data)
        student, consultant = student_and_consultant_named(
            request.user,
            asked["student_id"],
            asked["consultant_id"],
            unknown_student=ApplicationErrorCode.UNKNOWN_STUDENT,
            unknown_consultant=ApplicationErrorCode.UNKNOWN_CONSULTANT,
        )
        try:
            course = course_get_for(request.user, asked["course_id"])
        except NotFound:
            raise ValidationFailed("Unknown course.", code=ApplicationErrorCode.UNKNOWN_COURSE) from None
        application = services.application_create(
            actor=request.user,
            student=student,
            course=course,
            intake=parse_intake(asked["intake"]),
            consultant=consultant,
            note=asked["note"],
        )
        return Response(_body(self._fresh(application)), status=201)

    @extend_schema(request=ApplicationChangeSerializer, responses={200: ApplicationSerializer})
    def partial_update(self, request, pk=None):
        application = services.application_change(actor=request.user, application=self.get_object(), data=request.data)
        return Response(_body(self._fresh(application)))

    @extend_schema(request=TransitionInputSerializer, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        application = services.application_transition(
            actor=request.user, application=self.get_object(), data=request.data
        )
        return Response(_body(self._fresh(application)))

    @extend_schema(responses={200: ChecklistSerializer})
    @action(detail=True, methods=["get"])
    def checklist(self, request, pk=None):
        return Response(ChecklistSerializer(checklist_for(self.get_object()).as_dict()).data)
