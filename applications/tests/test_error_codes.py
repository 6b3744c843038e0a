"""Error codes of this area are raised by name from their `ErrorCode` enums, never as string literals
(TEAM.md): a literal `code="..."` in the code of these apps fails here, with where it is."""

import ast
from pathlib import Path

from applications.errors import ApplicationErrorCode
from catalogue.errors import CatalogueErrorCode
from core.errors import ErrorCode
from reports.errors import ReportErrorCode
from students.errors import StudentErrorCode
from study.errors import StudyErrorCode

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    *[p for app in ("study", "students", "catalogue", "applications") for p in (ROOT / app).rglob("*.py")],
    ROOT / "reports" / "applications.py",
]


def test_codes_are_raised_by_name():
    literals = []
    for path in FILES:
        if {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
            continue
        literals += [
            f"{path.relative_to(ROOT)}:{node.value.lineno} code={node.value.value!r}"
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.keyword) and node.arg == "code" and isinstance(node.value, ast.Constant)
        ]
    assert literals == []


def test_the_areas_codes_are_unique_registered_enums():
    enums = [ApplicationErrorCode, CatalogueErrorCode, StudentErrorCode, StudyErrorCode, ReportErrorCode]
    assert all(issubclass(enum, ErrorCode) for enum in enums)
    values = [code.value for enum in enums for code in enum]
    assert all(value == value.lower() and " " not in value for value in values)
    assert len(values) == len(set(values))
