"""A student's applications in their export and erasure (core.privacy).

Erasure keeps each application's course, intake, office, statuses and dates (the application report's
numbers stay the same) and removes what is about the person: offer conditions, confirmation and visa
references, the notes of its history. The documents linked to it (offer letters, CAS, visas) are the
documents area's: their files go there."""

from __future__ import annotations

from accounts.models import User
from applications.models import Application, StatusChange
from core.privacy import REMOVED, Area, AreaExport, Erasure, register_area


def export(person: User) -> AreaExport:
    applications = (
        Application.objects.filter(student=person)
        .select_related("course__university")
        .prefetch_related("status_history")
        .order_by("id")
    )
    return AreaExport(
        [
            {
                "id": a.pk,
                "university": a.course.university.name,
                "course": a.course.name,
                "intake": a.intake.strftime("%Y-%m"),
                "status": a.status,
                "offer": {
                    "conditions": a.offer_conditions,
                    "deposit_amount": a.deposit_amount,
                    "deposit_due": a.deposit_due,
                },
                "confirmation": {"kind": a.confirmation_kind, "number": a.confirmation_number},
                "visa": {
                    "applied_on": a.visa_applied_on,
                    "decided_on": a.visa_decided_on,
                    "reference": a.visa_reference,
                },
                "created_at": a.created_at,
                "history": [
                    {"from": c.from_status, "to": c.to_status, "note": c.note, "at": c.created_at}
                    for c in a.status_history.all()
                ],
            }
            for a in applications
        ]
    )


def erase(erasure: Erasure) -> None:
    mine = Application.objects.filter(student=erasure.person)
    erasure.count(
        "applications cleared",
        mine.update(offer_conditions="", confirmation_number="", visa_reference=""),
    )
    # a checklist override keeps a reason (a constraint): the note says it was removed
    StatusChange.objects.filter(application__in=mine).exclude(note="").update(note=REMOVED)
    StatusChange.objects.filter(application__in=mine).update(data={})


register_area(
    Area(
        name="applications",
        description=(
            "Your applications: course, intake, status, offer, confirmation and visa details, and every change "
            "of status with its note."
        ),
        export=export,
        erase=erase,
        covers={
            "applications.Application.student": "the student's applications: exported; on erasure offer, "
            "confirmation, visa references and history notes removed, the rows kept for the report's numbers",
        },
        kept={
            "applications.Application.consultant": "the consultant handling a student's application",
            "applications.Application.created_by": "who opened a student's application",
            "applications.StatusChange.actor": "who moved a student's application (its history)",
        },
    )
)
