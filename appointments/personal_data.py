"""A person's appointments in their export and erasure (core.privacy)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from appointments.models import Appointment
from core.privacy import Area, AreaExport, Erasure, register_area
from leads.personal_data import leads_of


def appointments_of(person: User) -> QuerySet[Appointment]:
    return Appointment.objects.filter(Q(student=person) | Q(lead__in=leads_of(person)))


def export(person: User) -> AreaExport:
    appointments = appointments_of(person).select_related("consultant", "office").order_by("start", "id")
    return AreaExport(
        [
            {
                "id": a.pk,
                "title": a.title,
                "start": a.start,
                "end": a.end,
                "status": a.status,
                "consultant": a.consultant.full_name,
                "office": a.office.name,
                "notes": a.notes,
                "cancellation_reason": a.cancellation_reason,
                "created_at": a.created_at,
            }
            for a in appointments
        ]
    )


def erase(erasure: Erasure) -> None:
    """Times, status and consultant stay (calendars, the report numbers); what was written about the
    person goes."""
    erasure.count(
        "appointments cleared",
        appointments_of(erasure.person).update(title="Appointment", notes="", cancellation_reason=""),
    )
    pattern = erasure.pattern()
    if pattern is not None:  # named in another appointment's title or notes
        for appointment in Appointment.objects.filter(
            Q(title__iregex=pattern.pattern) | Q(notes__iregex=pattern.pattern)
        ).only("id", "title", "notes"):
            appointment.title = erasure.scrub(appointment.title)
            appointment.notes = erasure.scrub(appointment.notes)
            appointment.save(update_fields=["title", "notes"])
            erasure.count("appointment mentions removed", 1)


register_area(
    Area(
        name="appointments",
        description="Your appointments: when, with whom, where, their status, and the notes written about them.",
        export=export,
        erase=erase,
        covers={
            "appointments.Appointment.student": "the person's appointments: exported; title and notes cleared "
            "on erasure (times and status stay in the consultant's calendar and the reports)",
        },
        kept={
            "appointments.Appointment.consultant": "a consultant's calendar: their work with someone else",
            "appointments.Appointment.created_by": "who booked: a staff action on someone else's appointment",
        },
    )
)
