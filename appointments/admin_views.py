"""The console's calendar: one office's appointments by week or day in the office's time zone, per
consultant or all of them (FullCalendar, static/console/calendar.js). The page reads its events here,
through the appointment selector; free slots, booking, rescheduling and cancelling go through the
REST API like any client (so a taken slot is the API's 409)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.http import Http404, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Role
from appointments import selectors
from appointments.models import AppointmentStatus
from appointments.services import STAFF_BOOKERS
from core.errors import CoreErrorCode, NotFound, error_body
from leads.selectors import lead_get_for
from offices.console import office_in_view

MAX_RANGE = timedelta(days=62)


def _consultants(user, office) -> list:
    """The office's consultants whose calendar `user` may see (a consultant: their own)."""
    return list(selectors.calendar_consultants_for(user).filter(office_id=office.pk))


def _chosen_consultant(request, consultants):
    raw = request.GET.get("consultant") or None
    if raw is None:
        return consultants[0] if len(consultants) == 1 and request.user.role == Role.CONSULTANT else None
    chosen = next((c for c in consultants if str(c.pk) == raw), None)
    if chosen is None:
        raise Http404("Consultant not found.")
    return chosen


def calendar(request):
    user = request.user
    view = office_in_view(request, everyone=False)
    office = view.office
    if office is None:
        raise Http404("No office yet.")
    consultants = _consultants(user, office)
    consultant = _chosen_consultant(request, consultants)
    lead = None
    if request.GET.get("lead"):
        try:
            lead = lead_get_for(user, request.GET["lead"])
        except NotFound:
            raise Http404("Lead not found.") from None
    return TemplateResponse(
        request,
        "admin/appointments/calendar.html",
        {
            **admin.site.each_context(request),
            "title": f"Calendar: {office.name}",
            "office": office,
            "offices": view.switcher(),
            "consultants": consultants,
            "consultant": consultant,
            "picks_consultant": user.role != Role.CONSULTANT,
            "config": {
                "office": {
                    "id": office.pk,
                    "name": office.name,
                    "timezone": office.timezone,
                    "opens": office.opens_at.strftime("%H:%M"),
                    "closes": office.closes_at.strftime("%H:%M"),
                },
                "consultants": [{"id": c.pk, "name": c.full_name} for c in consultants],
                "consultant_id": consultant.pk if consultant else None,
                "lead": {"id": lead.pk, "name": lead.full_name, "student_id": lead.linked_student_id} if lead else None,
                "start": request.GET.get("start") or None,
                "slot_minutes": settings.APPOINTMENT_SLOT_MINUTES,
                "events_url": reverse("admin:appointments_appointment_calendar_events"),
                "may_book": user.role in STAFF_BOOKERS,
                "me": user.pk,
                "role": user.role,
            },
        },
    )


def _bad(message: str) -> JsonResponse:
    return JsonResponse(error_body(CoreErrorCode.VALIDATION_ERROR, message), status=400)


def calendar_events(request):
    """The appointments overlapping [start, end) of one office (and consultant), as FullCalendar events."""
    user = request.user
    office = office_in_view(request, everyone=False).office
    if office is None:
        raise Http404("No office yet.")
    consultant = _chosen_consultant(request, _consultants(user, office)) if request.GET.get("consultant") else None
    start, end = parse_datetime(request.GET.get("start") or ""), parse_datetime(request.GET.get("end") or "")
    if start is None or end is None:
        return _bad("start and end are ISO 8601 date-times.")
    start, end = (t if timezone.is_aware(t) else t.replace(tzinfo=office.tzinfo) for t in (start, end))
    if not timedelta(0) < end - start <= MAX_RANGE:
        return _bad("A calendar shows at most 62 days.")
    appointments = selectors.appointments_between_for(
        user, start=start, end=end, office_id=office.pk, consultant_id=consultant.pk if consultant else None
    )
    events = []
    for a in appointments.select_related("lead__student"):
        attendee = a.student or a.lead
        events.append(
            {
                "id": str(a.pk),
                "title": f"{attendee.full_name if attendee else '?'}: {a.title}",
                "start": a.start.isoformat(),
                "end": a.end.isoformat(),
                "classNames": [f"status-{a.status}"],
                "editable": a.status == AppointmentStatus.SCHEDULED,
                "extendedProps": {
                    "kind": "appointment",
                    "status": a.status,
                    "status_label": a.get_status_display(),
                    "title": a.title,
                    "consultant_id": a.consultant_id,
                    "consultant": a.consultant.full_name,
                    "attendee": attendee.full_name if attendee else "",
                    "lead_id": a.lead_id,
                    "notes": a.notes,
                    "lead_url": reverse("admin:leads_lead_change", args=[a.lead_id]) if a.lead_id else None,
                },
            }
        )
    return JsonResponse(events, safe=False)
