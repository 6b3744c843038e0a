"""A student's proposals in their export and erasure (core.privacy). Erasure keeps the rows (which
courses were proposed and accepted stays for the numbers) and removes the free text about the person:
the consultant's message, the items' notes, a decline's reason."""

from __future__ import annotations

from accounts.models import User
from core.privacy import Area, AreaExport, Erasure, register_area
from proposals.models import Proposal, ProposalItem


def export(person: User) -> AreaExport:
    proposals = Proposal.objects.filter(student=person).prefetch_related("items__course__university").order_by("id")
    return AreaExport(
        [
            {
                "id": p.pk,
                "status": p.status,
                "message": p.message,
                "expires_at": p.expires_at,
                "sent_at": p.sent_at,
                "decided_at": p.decided_at,
                "decline_reason": p.decline_reason,
                "items": [
                    {
                        "university": i.course.university.name,
                        "course": i.course.name,
                        "intake": i.intake.strftime("%Y-%m"),
                        "note": i.note,
                        "tuition": i.tuition,
                        "living": i.living,
                        "currency": i.currency,
                        "application_id": i.application_id,
                    }
                    for i in p.items.all()
                ],
            }
            for p in proposals
        ]
    )


def erase(erasure: Erasure) -> None:
    mine = Proposal.objects.filter(student=erasure.person)
    erasure.count("proposals cleared", mine.update(message="", decline_reason=""))
    ProposalItem.objects.filter(proposal__in=mine).update(note="")


register_area(
    Area(
        name="proposals",
        description="Courses your consultant proposed to you: each course, intake, estimated cost, the message "
        "and what you accepted or declined.",
        export=export,
        erase=erase,
        covers={
            "proposals.Proposal.student": "the student's proposals: exported; on erasure the message, item notes "
            "and decline reason removed, the rows kept",
        },
        kept={
            "proposals.Proposal.consultant": "the consultant who proposed: staff work on someone else's record",
            "proposals.Proposal.created_by": "who wrote a student's proposal",
        },
    )
)
