"""An application's checklist: the requirements of the most specific template for its destination and
level, each item's state from the student's documents of that kind and their review. Read in a fixed
number of queries, for one application or a page of them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Prefetch

from applications.models import Application, ChecklistRequirement, ChecklistTemplate
from documents.models import Document, DocumentStatus


class ItemState:
    MISSING = "missing"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ALL = (MISSING, PENDING, APPROVED, REJECTED)


@dataclass
class ChecklistItem:
    key: str
    label: str
    required: bool
    document_kind: str
    needed: int
    state: str = ItemState.MISSING
    approved: int = 0
    document_id: int | None = None  # the document behind the state (the latest of that state)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "required": self.required,
            "state": self.state,
            "document_id": self.document_id,
            "document_kind": self.document_kind,
            "needed": self.needed,
            "approved": self.approved,
        }


@dataclass
class Checklist:
    template_id: int | None
    items: list[ChecklistItem] = field(default_factory=list)

    @property
    def progress(self) -> int:
        """Percent of the required items approved (100 with none required)."""
        required = [item for item in self.items if item.required]
        if not required:
            return 100
        return round(100 * sum(item.state == ItemState.APPROVED for item in required) / len(required))

    @property
    def missing(self) -> list[str]:
        """Required items not approved yet: what holds `draft → submitted` back."""
        return [item.key for item in self.items if item.required and item.state != ItemState.APPROVED]

    @property
    def complete(self) -> bool:
        return not self.missing

    def as_dict(self) -> dict[str, Any]:
        return {"template_id": self.template_id, "items": [i.as_dict() for i in self.items], "progress": self.progress}


def _specificity(template: ChecklistTemplate) -> int:
    return (2 if template.country else 0) + (1 if template.level else 0)


def templates_with_requirements() -> list[ChecklistTemplate]:
    """Every template with its requirements: a small table, read whole (two queries)."""
    return list(
        ChecklistTemplate.objects.prefetch_related(
            Prefetch("requirements", queryset=ChecklistRequirement.objects.order_by("position", "id"))
        )
    )


def template_for(templates: Iterable[ChecklistTemplate], *, country: str, level: str) -> ChecklistTemplate | None:
    """Country and level, then country, then level, then the default ("" and "")."""
    fitting = [t for t in templates if t.country in ("", country) and t.level in ("", level)]
    return max(fitting, key=_specificity, default=None)


def _document_counts(student_ids: set[int]) -> dict[tuple[int, str], dict[str, tuple[int, int]]]:
    """(student, kind) → status → (count, latest id), for the students' documents. One query."""
    rows = (
        Document.objects.filter(student_id__in=student_ids, deleted_at__isnull=True)
        .values("student_id", "kind", "status")
        .annotate(n=Count("id"), latest=Max("id"))
        .order_by()
    )
    counts: dict[tuple[int, str], dict[str, tuple[int, int]]] = defaultdict(dict)
    for row in rows:
        counts[(row["student_id"], row["kind"])][row["status"]] = (row["n"], row["latest"])
    return counts


def _item(requirement: ChecklistRequirement, found: dict[str, tuple[int, int]]) -> ChecklistItem:
    item = ChecklistItem(
        key=requirement.key,
        label=requirement.label,
        required=requirement.required,
        document_kind=requirement.document_kind,
        needed=requirement.count,
    )
    approved, approved_id = found.get(DocumentStatus.APPROVED, (0, None))
    pending, pending_id = found.get(DocumentStatus.PENDING, (0, None))
    rejected, rejected_id = found.get(DocumentStatus.REJECTED, (0, None))
    item.approved = approved
    if approved >= requirement.count:
        item.state, item.document_id = ItemState.APPROVED, approved_id
    elif pending:
        item.state, item.document_id = ItemState.PENDING, pending_id
    elif rejected:
        item.state, item.document_id = ItemState.REJECTED, rejected_id
    else:  # none, or fewer approved than needed (one of two references)
        item.document_id = approved_id
    return item


def checklists_for(applications: Iterable[Application]) -> dict[int, Checklist]:
    """Each application's checklist, by application id. Three queries whatever the number."""
    applications = list(applications)
    if not applications:
        return {}
    templates = templates_with_requirements()
    counts = _document_counts({a.student_id for a in applications})
    chosen: dict[tuple[str, str], tuple[int | None, list[ChecklistRequirement]]] = {}
    blank: dict[tuple[str, str], Checklist] = {}  # a scope's checklist for a student with no documents yet
    with_documents = {student for student, _kind in counts}
    out = {}
    nothing: dict[str, tuple[int, int]] = {}
    for application in applications:
        # (the board's cards carry the code and level as read: a CountryField builds a Country object at each
        # access, and the cards read no course)
        country = getattr(application, "destination_code", None) or str(application.destination)
        level = getattr(application, "course_level", None) or application.course.level
        scope = (country, level)
        if scope not in chosen:  # (once per destination and level: reading a template's country is not free)
            template = template_for(templates, country=country, level=level)
            chosen[scope] = (template.pk, list(template.requirements.all())) if template else (None, [])
        template_id, requirements = chosen[scope]
        student = application.student_id
        if student not in with_documents:  # (the same items for every such student: built once, read only)
            if scope not in blank:
                blank[scope] = Checklist(template_id=template_id, items=[_item(r, nothing) for r in requirements])
            out[application.pk] = blank[scope]
            continue
        out[application.pk] = Checklist(
            template_id=template_id,
            items=[_item(r, counts.get((student, r.document_kind), nothing)) for r in requirements],
        )
    return out


def checklist_for(application: Application) -> Checklist:
    return checklists_for([application])[application.pk]
