"""One CSV shape for leads, used by the API export and the admin action."""

from core.exports import csv_safe

EXPORT_COLUMNS = [
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "source",
    "status",
    "lost_reason",
    "office",
    "assigned_to",
    "student_id",
    "created_at",
]


def lead_export_row(lead) -> list:
    """Free text goes through csv_safe so a spreadsheet never runs a cell as a formula.
    Expects office and assigned_to already joined (the selectors do)."""
    return [
        lead.id,
        csv_safe(lead.first_name),
        csv_safe(lead.last_name),
        csv_safe(lead.email),
        csv_safe(lead.phone),
        lead.source,
        lead.status,
        csv_safe(lead.lost_reason),
        csv_safe(lead.office.name) if lead.office else "",
        lead.assigned_to.email if lead.assigned_to else "",
        lead.linked_student_id or "",
        lead.created_at.isoformat(),
    ]
