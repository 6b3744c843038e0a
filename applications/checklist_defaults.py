"""The default checklists: the documents universities ask for everywhere, and what the main destinations
add. Created by migration 0002 in every installation, and again by `ensure_default_checklists` where
none is left (`seed` after a flush, tests after a transactional test's flush). Plain data: the migration
reads it with its historical models."""

from __future__ import annotations

from typing import Any

# key, label, document kind, count, required
DEFAULT = [
    ("passport", "Passport", "passport", 1, True),
    ("transcripts", "Academic transcripts", "transcript", 1, True),
    ("english_test", "English test result", "test_score", 1, True),
    ("statement_of_purpose", "Statement of purpose", "statement_of_purpose", 1, True),
    ("references", "Two references", "recommendation", 2, True),
    ("cv", "CV", "cv", 1, True),
    ("financial_evidence", "Financial evidence", "financial", 1, True),
]
# A destination's own version of a default item (same key) takes its place; other items are added.
BY_COUNTRY = {
    "GB": ("United Kingdom", [("tb_test", "Tuberculosis test (some nationalities)", "medical", 1, False)]),
    "US": ("United States", [("financial_evidence", "Bank statement and affidavit of support", "financial", 2, True)]),
    "AU": ("Australia", [("oshc", "Overseas Student Health Cover", "health_insurance", 1, True)]),
    "CA": ("Canada", [("medical_exam", "Medical exam (some nationalities)", "medical", 1, False)]),
    "DE": ("Germany", [("financial_evidence", "Bank statement and blocked account", "financial", 2, True)]),
}


def create_default_checklists(template_model: Any, requirement_model: Any) -> None:
    """The default template and the destinations', with the models given (historical in the migration)."""

    def template(country: str, name: str, extra: list[tuple[str, str, str, int, bool]]) -> None:
        replaced = {row[0]: row for row in extra}
        items = [replaced.get(row[0], row) for row in DEFAULT] + [r for r in extra if r[0] not in dict.fromkeys(
            d[0] for d in DEFAULT)]  # fmt: skip
        made = template_model.objects.create(country=country, level="", name=name)
        requirement_model.objects.bulk_create(
            requirement_model(
                template=made, key=key, label=label, document_kind=kind, count=count, required=required, position=n
            )
            for n, (key, label, kind, count, required) in enumerate(items)
        )

    template("", "Default", [])
    for country, (name, extra) in BY_COUNTRY.items():
        template(country, name, extra)


def ensure_default_checklists() -> bool:
    """The defaults, when no template is left at all; True if they were made."""
    from applications.models import ChecklistRequirement, ChecklistTemplate  # noqa: PLC0415 - (models: once apps load)

    if ChecklistTemplate.objects.exists():
        return False
    create_default_checklists(ChecklistTemplate, ChecklistRequirement)
    return True
