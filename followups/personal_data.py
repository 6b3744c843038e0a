"""Tasks about a student in their export and erasure (core.privacy). A task is staff work; what it says
about the person (its title and notes) is exported and removed on erasure, the row kept as a record
that the work was done."""

from __future__ import annotations

from accounts.models import User
from core.privacy import REMOVED, Area, AreaExport, Erasure, register_area
from followups.models import Task


def export(person: User) -> AreaExport:
    return AreaExport(
        [
            {"id": t.pk, "title": t.title, "notes": t.notes, "due_at": t.due_at, "status": t.status}
            for t in Task.objects.filter(student=person).order_by("id")
        ]
    )


def erase(erasure: Erasure) -> None:
    erasure.count("tasks cleared", Task.objects.filter(student=erasure.person).update(title=REMOVED, notes=""))


register_area(
    Area(
        name="tasks",
        description="Follow-up tasks staff kept about you: title, notes, due time and whether done.",
        export=export,
        erase=erase,
        covers={"followups.Task.student": "tasks about the student: exported; title and notes removed on erasure"},
        kept={
            "followups.Task.assignee": "the member of staff a task is for: their own work record",
            "followups.Task.done_by": "who completed a task: a staff action",
            "followups.Task.created_by": "who set a task: a staff action",
        },
    )
)
