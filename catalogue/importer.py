"""The catalogue from a CSV file, one course per row with its university: every row validated first
(`catalogue.validation`, as the API), then, only if none failed, universities and courses upserted by
their natural keys ((name, country); (university, name, level)) in one transaction. Nothing is
half-written: a file with one bad row writes nothing and says which row, which column, and why."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts.models import User
from catalogue.errors import CatalogueErrorCode
from catalogue.models import Course, University
from catalogue.services import REQUIREMENT_FIELDS, _writer
from catalogue.validation import CourseInputSerializer, UniversityInputSerializer
from core.errors import ValidationFailed

COLUMNS = (
    "university",
    "country",
    "city",
    "website",
    "partnership",
    "commission_rate",
    "course",
    "level",
    "field",
    "duration_months",
    "tuition_fee",
    "currency",
    "intakes",
    "min_ielts",
    "min_toefl",
    "min_pte",
    "min_gpa",
    "requirement_notes",
)
REQUIRED_COLUMNS = (
    "university",
    "country",
    "course",
    "level",
    "field",
    "duration_months",
    "tuition_fee",
    "currency",
    "intakes",
)
MAX_ROWS = 50_000
MONTHS = {name: n for n, name in enumerate(("jan feb mar apr may jun jul aug sep oct nov dec").split(), start=1)}
# Serializer field → the CSV column it came from, for the per-row report.
_COLUMN_OF = {"name": "course", "notes": "requirement_notes", "university_id": "university"}
_UNIVERSITY_COLUMN_OF = {"name": "university", "notes": "university_notes"}
UNIVERSITY_FIELDS = ("city", "website", "partnership", "commission_rate")
COURSE_FIELDS = (
    "field",
    "duration_months",
    "tuition_fee",
    "currency",
    "intakes",
    *REQUIREMENT_FIELDS,
    "requirement_notes",
)


@dataclass
class RowError:
    row: int  # the file's line number, as an editor shows it
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class ImportReport:
    rows: int = 0
    universities_created: int = 0
    universities_updated: int = 0
    courses_created: int = 0
    courses_updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "universities_created": self.universities_created,
            "universities_updated": self.universities_updated,
            "courses_created": self.courses_created,
            "courses_updated": self.courses_updated,
            "written": self.written,
            "errors": [e.as_dict() for e in self.errors],
        }


def _intakes(text: str) -> list[Any]:
    """Intakes written "9;1", "9 1", "Sep;Jan" or "September": months as numbers (bad ones for the validator)."""
    out: list[Any] = []
    for part in text.replace(",", ";").replace(" ", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        month = int(part) if part.isdigit() else MONTHS.get(part[:3].lower())
        out.append(month if month is not None else part)
    return out


def _errors(errors: dict[Any, Any], columns: dict[str, str]) -> list[tuple[str, str]]:
    found = []
    for name, messages in errors.items():
        if isinstance(messages, dict) and all(isinstance(k, int) for k in messages):  # a list's items (intakes)
            messages = [m for item in messages.values() for m in (item if isinstance(item, list) else [item])]
        elif isinstance(messages, dict):  # the requirements object
            found += _errors(messages, columns)
            continue
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            messages = [m for item in messages for m in item.values()]
        text = messages[0] if isinstance(messages, list) and messages else messages
        found.append((columns.get(str(name), str(name)), str(text)))
    return found


def _parse_row(row: dict[str, str], number: int, report: ImportReport) -> tuple[dict, dict] | None:
    cell = {k: (row.get(k) or "").strip() for k in COLUMNS}
    if row.get(None):  # type: ignore[call-overload]  # DictReader keeps extra cells under None
        report.errors.append(RowError(number, "", "more cells than columns"))
        return None
    university = UniversityInputSerializer(
        data={
            "name": cell["university"],
            "country": cell["country"],
            "city": cell["city"],
            "website": cell["website"],
            "partnership": cell["partnership"] or "none",
            "commission_rate": cell["commission_rate"] or "0",
        }
    )
    requirements = {k: cell[k] or None for k in REQUIREMENT_FIELDS}
    requirements["notes"] = cell["requirement_notes"]
    course = CourseInputSerializer(
        data={
            "university_id": 1,  # (the university is this row's, resolved on writing)
            "name": cell["course"],
            "level": cell["level"],
            "field": cell["field"],
            "duration_months": cell["duration_months"],
            "tuition_fee": cell["tuition_fee"],
            "currency": cell["currency"],
            "intakes": _intakes(cell["intakes"]),
            "requirements": requirements,
        }
    )
    problems = []
    if not university.is_valid():
        problems += _errors(university.errors, _UNIVERSITY_COLUMN_OF)
    if not course.is_valid():
        problems += _errors(course.errors, _COLUMN_OF)
    for column, reason in problems:
        report.errors.append(RowError(number, column, reason))
    if problems:
        return None
    return dict(university.validated_data), dict(course.validated_data)


def _course_values(course: dict[str, Any]) -> dict[str, Any]:
    requirements = course.get("requirements") or {}
    values = {name: course[name] for name in ("field", "duration_months", "tuition_fee", "currency")}
    values["intakes"] = sorted(set(course["intakes"]))
    for name in REQUIREMENT_FIELDS:
        values[name] = requirements.get(name)
    values["requirement_notes"] = requirements.get("notes", "")
    return values


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(str(a)) == Decimal(str(b))
    return a == b


def catalogue_import(
    *, actor: User, data: bytes, dry_run: bool = False, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Validate every row; with none failing (and not `dry_run`), upsert them all in one transaction.
    `progress(n)` is called as rows are read and as they are written."""
    _writer(actor)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("The file must be UTF-8 CSV.", code=CatalogueErrorCode.INVALID_CSV) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(
            f"The first line names the columns; missing: {', '.join(missing)}.",
            code=CatalogueErrorCode.INVALID_CSV,
            details={"missing": missing, "columns": list(COLUMNS)},
        )
    report = ImportReport()
    universities: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    courses: dict[tuple[str, str, str, str], tuple[int, dict[str, Any]]] = {}
    next_line = reader.line_num + 1
    for row in reader:
        number, next_line = next_line, reader.line_num + 1
        report.rows += 1
        if report.rows > MAX_ROWS:
            report.errors.append(RowError(number, "", f"at most {MAX_ROWS} rows per file"))
            break
        if progress is not None:
            progress(1)
        parsed = _parse_row(row, number, report)
        if parsed is None:
            continue
        university, course = parsed
        ukey = (university["name"].lower(), university["country"])
        first = universities.setdefault(ukey, (number, university))
        for name in UNIVERSITY_FIELDS:
            if not _same(first[1][name], university[name]):
                report.errors.append(RowError(number, name, f"differs from row {first[0]} for the same university"))
        ckey = (*ukey, course["name"].lower(), course["level"])
        if ckey in courses:
            report.errors.append(RowError(number, "course", f"the same course as row {courses[ckey][0]}"))
        courses[ckey] = (number, course)
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        _write(report, universities, courses, progress)
    report.written = True
    return report


def _write(report: ImportReport, universities: dict, courses: dict, progress: Callable[[int], None] | None) -> None:
    countries = {country for _, country in universities}
    existing = {
        (u.name.lower(), str(u.country)): u
        for u in University.objects.select_for_update().filter(country__in=countries)
    }
    new, changed = [], []
    for key, (_, fields) in universities.items():
        university = existing.get(key)
        if university is None:
            new.append(University(**fields))
        elif any(not _same(getattr(university, n), fields[n]) for n in UNIVERSITY_FIELDS):
            for name in UNIVERSITY_FIELDS:
                setattr(university, name, fields[name])
            changed.append(university)
    for university in University.objects.bulk_create(new):
        existing[(university.name.lower(), str(university.country))] = university
    University.objects.bulk_update(changed, UNIVERSITY_FIELDS)
    report.universities_created, report.universities_updated = len(new), len(changed)

    ids = {key: u.pk for key, u in existing.items() if key in universities}
    known = {
        (c.university_id, c.name.lower(), c.level): c
        for c in Course.objects.select_for_update().filter(university_id__in=ids.values())
    }
    new_courses, changed_courses = [], []
    for (uname, country, cname, level), (_, course) in courses.items():
        values = _course_values(course)
        current = known.get((ids[(uname, country)], cname, level))
        if current is None:
            new_courses.append(Course(university_id=ids[(uname, country)], name=course["name"], level=level, **values))
        elif any(not _same(getattr(current, n), v) for n, v in values.items()):
            for name, value in values.items():
                setattr(current, name, value)
            changed_courses.append(current)
    Course.objects.bulk_create(new_courses, batch_size=1000)
    Course.objects.bulk_update(changed_courses, COURSE_FIELDS, batch_size=1000)
    report.courses_created, report.courses_updated = len(new_courses), len(changed_courses)
    if progress is not None:
        progress(0)
