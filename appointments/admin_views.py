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

from accounts.models import Role
from appointments import selectors
from appointments.models import AppointmentStatus
from appointments.services import STAFF_BOOKERS
from core.dates import RANGE_TEXT, moment_from_query
from core.errors import CoreErrorCode, NotFound, error_body
from leads.selectors import lead_get_for
from offices.console import console_office_in_view, office_in_view
from offices.hours import OfficeHours

MAX_RANGE = timedelta(days=62)
# One colour per consultant of the page (by name), each with at least 6:1 against white text.
CONSULTANT_COLOURS = ("#1f5f99", "#9a3412", "#2e6b30", "#6b3fa0", "#a0204c", "#0f6570", "#7a5200", "#475569")


def consultant_colour(index: int) -> str:
    return CONSULTANT_COLOURS[index % len(CONSULTANT_COLOURS)]


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
    console_office_in_view(request, office)  # the page's clock and date formats are the office's
    consultants = _consultants(user, office)
    consultant = _chosen_consultant(request, consultants)
    hours = OfficeHours.of(office)
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
                    "locale": office.locale,
                    # {ISO weekday: [opens, closes]}; a weekday not listed is closed, and so is each date listed.
                    "week": {str(day): [f"{o:%H:%M}", f"{c:%H:%M}"] for day, (o, c) in hours.week.items()},
                    "closed": {day.isoformat(): reason or "Closed" for day, reason in hours.closed.items()},
                },
                "today": selectors.office_today(office).isoformat(),
                "consultants": [
                    {"id": c.pk, "name": c.full_name, "colour": consultant_colour(n)} for n, c in enumerate(consultants)
                ],
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
    return JsonResponse(error_body(CoreErrorCode.VALIDATION_ERROR, message, {"range": [message]}), status=400)


def calendar_events(request):
    """The appointments overlapping [start, end) of one office (and consultant), as FullCalendar events."""
    user = request.user
    office = office_in_view(request, everyone=False).office
    if office is None:
        raise Http404("No office yet.")
    consultants = _consultants(user, office)
    consultant = _chosen_consultant(request, consultants) if request.GET.get("consultant") else None
    # (FullCalendar sends them; a hand-made range no calendar has is bad input, never a 500)
    start = moment_from_query(request.GET.get("start"), default_tz=office.tzinfo)
    end = moment_from_query(request.GET.get("end"), default_tz=office.tzinfo)
    if start is None or end is None:
        return _bad(f"start and end are ISO 8601 date-times {RANGE_TEXT}.")
    if not timedelta(0) < end - start <= MAX_RANGE:
        return _bad("A calendar shows at most 62 days.")
    appointments = selectors.appointments_between_for(
        user, start=start, end=end, office_id=office.pk, consultant_id=consultant.pk if consultant else None
    )
    colours = {c.pk: consultant_colour(n) for n, c in enumerate(consultants)}
    events = []
    for a in appointments.select_related("lead__student"):
        attendee = a.student or a.lead
        colour = colours.get(a.consultant_id, CONSULTANT_COLOURS[-1])
        events.append(
            {
                "id": str(a.pk),
                "title": f"{attendee.full_name if attendee else '?'}: {a.title}",
                "start": a.start.isoformat(),
                "end": a.end.isoformat(),
                "backgroundColor": colour,
                "borderColor": colour,
                "textColor": "#ffffff",
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
