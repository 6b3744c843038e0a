from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from accounts.models import STAFF_ROLES
from catalogue import selectors, services
from catalogue.api.serializers import CourseSerializer, UniversitySerializer, UniversityStaffSerializer
from catalogue.models import Partnership
from catalogue.validation import CourseInputSerializer, UniversityInputSerializer
from core.errors import ValidationFailed
from core.pagination import MAX_LIMIT, CursorPagination, limit_from
from study.serializers import CountryField
from study.vocabulary import StudyLevel

UNIVERSITY_BODY = UniversityStaffSerializer  # (students get the same without `commission_rate`)


def _university_serializer(user) -> type[UniversitySerializer]:
    return UniversityStaffSerializer if user.role in STAFF_ROLES else UniversitySerializer


class UniversityQuerySerializer(serializers.Serializer):
    country = CountryField(required=False)
    partnership = serializers.ChoiceField(choices=Partnership.choices, required=False)
    q = serializers.CharField(max_length=100, required=False, help_text="Part of the name")


class NamePagination(CursorPagination):
    ordering = ("name", "id")  # type: ignore[assignment]  # DRF takes a tuple (stubs: str)


@extend_schema(tags=["catalogue"])
class UniversityViewSet(viewsets.GenericViewSet):
    pagination_class = NamePagination
    serializer_class = UniversitySerializer

    def get_queryset(self):
        return selectors.university_list_for(self.request.user)

    def get_object(self):
        return selectors.university_get_for(self.request.user, self.kwargs["pk"])

    def _body(self, university) -> dict[str, Any]:
        return _university_serializer(self.request.user)(university).data

    @extend_schema(parameters=[UniversityQuerySerializer], responses={200: UNIVERSITY_BODY(many=True)})
    def list(self, request):
        query = UniversityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        universities = selectors.university_list_for(request.user)
        if query.validated_data.get("country"):
            universities = universities.filter(country=query.validated_data["country"])
        if query.validated_data.get("partnership"):
            universities = universities.filter(partnership=query.validated_data["partnership"])
        if query.validated_data.get("q"):
            universities = universities.filter(name__icontains=query.validated_data["q"])
        page = self.paginate_queryset(universities)
        return self.get_paginated_response(_university_serializer(request.user)(page, many=True).data)

    @extend_schema(responses={200: UNIVERSITY_BODY})
    def retrieve(self, request, pk=None):
        return Response(self._body(self.get_object()))

    @extend_schema(request=UniversityInputSerializer, responses={201: UniversityStaffSerializer})
    def create(self, request):
        university = services.university_create(actor=request.user, data=request.data)
        return Response(self._body(selectors.university_get_for(request.user, university.pk)), status=201)

    @extend_schema(request=UniversityInputSerializer, responses={200: UniversityStaffSerializer})
    def partial_update(self, request, pk=None):
        university = services.university_update(actor=request.user, university=self.get_object(), data=request.data)
        return Response(self._body(selectors.university_get_for(request.user, university.pk)))

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.university_delete(actor=request.user, university=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class CourseQuerySerializer(serializers.Serializer):
    country = CountryField(required=False, help_text="The university's country, ISO 3166 alpha-2")
    level = serializers.ChoiceField(choices=StudyLevel.choices, required=False)
    field = serializers.CharField(max_length=100, required=False, help_text="Part of the field of study")
    intake = serializers.IntegerField(min_value=1, max_value=12, required=False, help_text="A month the course starts")
    max_tuition = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    university = serializers.IntegerField(min_value=1, required=False)
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)
    q = serializers.CharField(max_length=200, required=False, help_text="Words of the course, field or university")
    eligible_for = serializers.IntegerField(
        min_value=1, required=False, help_text="A student's id: only courses they qualify for, best fit first"
    )


class OffsetPagination(BasePagination):
    """`?limit=&offset=` pages, `{"results", "next"}` like every list, without a count query: ranked lists
    (search, fit) have no stable key a cursor could follow."""

    default_limit = 50
    max_offset = 100_000  # far past any page a person reads; beyond it PostgreSQL's bigint, not a page

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = limit_from(request, self.default_limit)  # the one maximum of every list
        try:
            self.offset = int(request.query_params.get("offset") or 0)
        except ValueError:
            raise ValidationFailed("offset is a whole number.") from None
        if not 0 <= self.offset <= self.max_offset:
            raise ValidationFailed(f"offset is between 0 and {self.max_offset}.")
        rows = list(queryset[self.offset : self.offset + self.limit + 1])
        self.more = len(rows) > self.limit
        return rows[: self.limit]

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self._next()})

    def _next(self) -> str | None:
        if not self.more:
            return None
        query = self.request.query_params.copy()
        query["offset"] = str(self.offset + self.limit)
        query["limit"] = str(self.limit)
        return self.request.build_absolute_uri(f"{self.request.path}?{query.urlencode()}")

    def get_paginated_response_schema(self, schema):
        return CursorPagination().get_paginated_response_schema(schema)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": self.default_limit},
            },
            {
                "name": "offset",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 0, "maximum": self.max_offset},
            },
        ]


@extend_schema(tags=["catalogue"])
class CourseViewSet(viewsets.GenericViewSet):
    pagination_class = OffsetPagination
    serializer_class = CourseSerializer

    def get_queryset(self):
        return selectors.course_list_for(self.request.user)

    def get_object(self):
        return selectors.course_get_for(self.request.user, self.kwargs["pk"])

    @extend_schema(
        parameters=[CourseQuerySerializer],
        responses={200: CourseSerializer(many=True)},
    )
    def list(self, request):
        query = CourseQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        asked = query.validated_data
        filters = selectors.CourseFilters(
            country=asked.get("country"),
            level=asked.get("level"),
            field=asked.get("field"),
            intake=asked.get("intake"),
            max_tuition=asked.get("max_tuition"),
            university_id=asked.get("university"),
            is_active=asked.get("is_active"),
            q=asked.get("q"),
        )
        courses = selectors.courses_filtered(selectors.course_list_for(request.user), filters)
        eligible = "eligible_for" in asked
        if eligible:
            applicant = selectors.applicant_for(request.user, asked["eligible_for"], today=timezone.localdate())
            courses = selectors.courses_eligible(courses, applicant)
        courses = courses.order_by(*selectors.course_ordering(eligible=eligible, searched=bool(asked.get("q"))))
        page = self.paginate_queryset(courses.only(*selectors.COURSE_PAGE_FIELDS))
        return self.get_paginated_response(CourseSerializer(page, many=True).data)

    @extend_schema(responses={200: CourseSerializer})
    def retrieve(self, request, pk=None):
        return Response(CourseSerializer(self.get_object()).data)

    @extend_schema(request=CourseInputSerializer, responses={201: CourseSerializer})
    def create(self, request):
        course = services.course_create(actor=request.user, data=request.data)
        return Response(CourseSerializer(selectors.course_get_for(request.user, course.pk)).data, status=201)

    @extend_schema(request=CourseInputSerializer, responses={200: CourseSerializer})
    def partial_update(self, request, pk=None):
        course = services.course_update(actor=request.user, course=self.get_object(), data=request.data)
        return Response(CourseSerializer(selectors.course_get_for(request.user, course.pk)).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.course_delete(actor=request.user, course=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
