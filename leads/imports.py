"""One CSV shape for importing leads (the API's `leads/import` and `manage.py import_leads`), beside
`leads/exports.py`. Each cell is checked by the model's own field (its max_length, choices, email
validator), so a change to `Lead` changes what the import accepts; each good row is created through
`leads.services.lead_create`, as a lead typed in would be."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Field

from accounts.models import User
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from leads.errors import LeadErrorCode
from leads.models import Lead, LeadSource
from leads.services import lead_check_contact, lead_create

IMPORT_COLUMNS = ("first_name", "last_name", "email", "phone", "source")
IMPORT_MAX_ROWS = 10_000


def _field(name: str) -> Field[Any, Any]:
    field = Lead._meta.get_field(name)
    assert isinstance(field, Field)  # (every import column is a concrete field of Lead)
    return field


def _cell_errors(name: str, value: str) -> list[str]:
    """What the model's field says of one cell. An empty cell is left to the row's rules (a
    first name is required; email or phone, checked by `lead_check_contact`; source defaults)."""
    field = _field(name)
    if not value:
        return [] if field.blank or field.has_default() else [f"{name} is required"]
    try:
        field.clean(value, None)
    except DjangoValidationError as exc:
        codes = {error.code for error in exc.error_list}
        if "max_length" in codes:
            return [f"{name} is too long (at most {field.max_length} characters)"]
        if "invalid_choice" in codes:
            return [f"{name} must be one of {', '.join(str(choice) for choice, _ in field.flatchoices)}"]
        return [f"{name} is not valid"]
    return []


def leads_import_csv(*, actor: User, data: bytes, office=None) -> dict:
    """Row by row: bad rows are reported with their errors, good rows created; a lead already known
    (same email or phone in the office) is skipped, so importing the same file twice adds nothing."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("The file must be UTF-8 CSV.", code=LeadErrorCode.INVALID_CSV) from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "first_name" not in reader.fieldnames:
        raise ValidationFailed(
            "The first line must name the columns, starting with first_name.",
            code=LeadErrorCode.INVALID_CSV,
            details={"columns": list(IMPORT_COLUMNS)},
        )
    report: dict[str, Any] = {"created": 0, "skipped": 0, "errors": []}
    # Rows are numbered by the file line they start on (a quoted cell may span lines), as an editor shows them.
    next_line = reader.line_num + 1
    for count, cells in enumerate(reader, start=1):
        number, next_line = next_line, reader.line_num + 1
        if count > IMPORT_MAX_ROWS:
            report["errors"].append({"row": number, "errors": [f"Only {IMPORT_MAX_ROWS} rows per file."]})
            break
        errors = ["more cells than columns"] if cells.get(None) else []
        row = {name: (cells.get(name) or "").strip() for name in IMPORT_COLUMNS}
        for name in IMPORT_COLUMNS:
            errors += _cell_errors(name, row[name])
        try:
            lead_check_contact(email=row["email"], phone=row["phone"])
        except ValidationFailed as exc:
            errors.append(exc.message)
        if errors:
            report["errors"].append({"row": number, "errors": errors})
            continue
        try:
            with transaction.atomic():
                lead_create(
                    actor=actor,
                    first_name=row["first_name"],
                    last_name=row["last_name"],
                    email=row["email"],
                    phone=row["phone"],
                    source=row["source"] or LeadSource.OTHER,
                    office=office,
                )
            report["created"] += 1
        except Conflict:
            report["skipped"] += 1
        except (Forbidden, NotFound):
            raise
        except ValidationFailed as exc:
            report["errors"].append({"row": number, "errors": [exc.message]})
    return report
