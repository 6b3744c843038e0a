from django.http import HttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from icalendar import Calendar, Event
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Role, User
from appointments import selectors, services
from appointments.api import serializers as s
from appointments.errors import AppointmentErrorCode
from appointments.models import Appointment, AppointmentStatus
from core.api.filters import MomentFilter
from core.errors import ValidationFailed
from core.pagination import CursorPagination
from leads.selectors import student_and_lead_for


class AppointmentFilter(filters.FilterSet):
    consultant = filters.NumberFilter(field_name="consultant_id")
    student = filters.NumberFilter(field_name="student_id")
    office = filters.NumberFilter(field_name="office_id")
    status = filters.MultipleChoiceFilter(choices=AppointmentStatus.choices)
    start_after = MomentFilter(field_name="start", lookup_expr="gte")
    start_before = MomentFilter(field_name="start", lookup_expr="lt")

    class Meta:
        model = Appointment
        fields = ["consultant", "student", "office", "status", "start_after", "start_before"]


class AppointmentPagination(CursorPagination):
    ordering = ("start", "id")  # type: ignore[assignment]  # DRF takes a tuple (stubs: str)


def _consultant(consultant_id):
    """Any active consultant by id: whom a booking may name is `appointment_book`'s rule (office, own)."""
    consultant = User.objects.select_related("office").filter(pk=consultant_id, role=Role.CONSULTANT).first()
    if consultant is None:
        raise ValidationFailed("Unknown consultant.", code=AppointmentErrorCode.UNKNOWN_CONSULTANT)
    return consultant


@extend_schema(tags=["appointments"])
class AppointmentViewSet(viewsets.GenericViewSet):
    serializer_class = s.AppointmentSerializer
    filterset_class = AppointmentFilter
    pagination_class = AppointmentPagination

    def get_queryset(self):
        return selectors.appointment_list_for(self.request.user)

    def get_object(self):
        return selectors.appointment_get_for(self.request.user, self.kwargs["pk"])

    @extend_schema(responses={200: s.AppointmentSerializer(many=True)})
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.AppointmentSerializer(page, many=True).data)

    @extend_schema(responses={200: s.AppointmentSerializer})
    def retrieve(self, request, pk=None):
        return Response(s.AppointmentSerializer(self.get_object()).data)

    @extend_schema(request=s.AppointmentCreateSerializer, responses={201: s.AppointmentSerializer})
    def create(self, request):
        data = s.AppointmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        student, lead = student_and_lead_for(request.user, student_id=fields["student_id"], lead_id=fields["lead_id"])
        appointment = services.appointment_book(
            actor=request.user,
            consultant=_consultant(fields["consultant_id"]),
            student=student,
            lead=lead,
            title=fields["title"],
            start=fields["start"],
            end=fields["end"],
            notes=fields["notes"],
            allow_outside_hours=fields["allow_outside_hours"],
        )
        return Response(s.AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.AppointmentUpdateSerializer, responses={200: s.AppointmentSerializer})
    def partial_update(self, request, pk=None):
        appointment = self.get_object()
        data = s.AppointmentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment = services.appointment_set_outcome(
            actor=request.user, appointment=appointment, status=data.validated_data["status"]
        )
        return Response(s.AppointmentSerializer(appointment).data)

    @extend_schema(responses={204: None}, description="Cancels the appointment (the row stays).")
    def destroy(self, request, pk=None):
        services.appointment_cancel(actor=request.user, appointment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.RescheduleSerializer, responses={200: s.AppointmentSerializer})
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        data = s.RescheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment = services.appointment_reschedule(
            actor=request.user, appointment=self.get_object(), **data.validated_data
        )
        return Response(s.AppointmentSerializer(appointment).data)

    @extend_schema(request=s.CancelSerializer, responses={200: s.AppointmentSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = s.CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment = services.appointment_cancel(
            actor=request.user, appointment=self.get_object(), **data.validated_data
        )
        return Response(s.AppointmentSerializer(appointment).data)

    @extend_schema(responses={(200, "text/calendar"): OpenApiResponse(description="An iCalendar event")})
    @action(detail=True, methods=["get"])
    def ics(self, request, pk=None):
        appointment = self.get_object()
        calendar = Calendar()
        calendar.add("prodid", "-//Consultancy CRM//appointments//EN")
        calendar.add("version", "2.0")
        event = Event()
        event.add("uid", f"appointment-{appointment.pk}@crm")
        event.add("dtstamp", appointment.updated_at)
        event.add("dtstart", appointment.start)
        event.add("dtend", appointment.end)
        event.add("summary", appointment.title)
        event.add("location", f"{appointment.office.name}, {appointment.office.address}".strip(", "))
        event.add("description", f"With {appointment.consultant.full_name}")
        event.add("status", "CANCELLED" if appointment.status == AppointmentStatus.CANCELLED else "CONFIRMED")
        calendar.add_component(event)
        response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.pk}.ics"'
        return response

    @extend_schema(parameters=[s.AvailabilityQuerySerializer], responses={200: s.AvailabilitySerializer})
    @action(detail=False, methods=["get"])
    def availability(self, request):
        query = s.AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        consultant = selectors.calendar_consultant_get_for(request.user, query.validated_data["consultant_id"])
        slots = services.availability(consultant=consultant, day=query.validated_data["date"])
        return Response({"consultant_id": consultant.pk, "date": query.validated_data["date"], "results": slots})

    @extend_schema(
        parameters=[s.FreeSlotsQuerySerializer],
        responses={200: s.FreeSlotsSerializer},
        description="Free slots of several consultants at once (each within their office's opening hours), "
        "by consultant then time. A consultant whose calendar you may not see is a 404.",
    )
    @action(detail=False, methods=["get"], url_path="free-slots")
    def free_slots(self, request):
        query = s.FreeSlotsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ids, first, last = (query.validated_data[k] for k in ("consultant_ids", "date_from", "date_to"))
        if len(ids) > s.FREE_SLOTS_MAX_CONSULTANTS:
            raise ValidationFailed(
                f"At most {s.FREE_SLOTS_MAX_CONSULTANTS} consultants at once.",
                code=AppointmentErrorCode.TOO_MANY_CONSULTANTS,
            )
        if not 0 <= (last - first).days < s.FREE_SLOTS_MAX_DAYS:
            raise ValidationFailed(
                f"date_to is on or after date_from, at most {s.FREE_SLOTS_MAX_DAYS} days in all.",
                code=AppointmentErrorCode.INVALID_DATE_RANGE,
            )
        consultants = selectors.calendar_consultants_get_for(request.user, ids)
        return Response({"results": services.free_slots(consultants=consultants, first=first, last=last)})
