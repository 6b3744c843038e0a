"""The error-code registry (core.errors.ErrorCode): every code the code base raises or answers is a
member of an area's enum, raised by name, and listed in the OpenAPI `Error` component and the
AsyncAPI document. A scan of the source (AST) finds what is raised, so a code added on any branch
is checked: a bare string, or an enum defined outside an `errors` module, fails here."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.errors import CoreErrorCode, ErrorCode, registry
from core.tests.source import ROOT, python_files

SKIPPED_DIRS = {"migrations", "tests"}  # of the project's files (core/tests/source.py leaves out the rest)
# The classes whose `code=` is an error code, and their subclasses anywhere in the code base.
ERROR_ROOTS = {
    "ApplicationError",
    "ValidationFailed",
    "NotFound",
    "Forbidden",
    "Conflict",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "RateLimited",
    "ServiceUnavailable",
}
CODE_ARGUMENTS = {"error_body": slice(0, 1), "error_response": slice(0, None)}  # helpers taking codes positionally
CODE_ATTRIBUTES = {"default_code", "error_code"}  # class attributes naming an error class's code


@dataclass
class Use:
    where: str
    node: ast.expr


def source_files() -> Iterator[Path]:
    for path in python_files():
        if not SKIPPED_DIRS & set(path.relative_to(ROOT).parts):
            yield path


@pytest.fixture(scope="module")
def trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), str(path)) for path in source_files()}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """ERROR_ROOTS and every class that derives from one of them (by name, to a fixpoint), plus
    DRF exceptions of ours that name an `error_code`."""
    classes = [node for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    found = set(ERROR_ROOTS)
    while True:
        more = {c.name for c in classes if c.name not in found and {_name(b) for b in c.bases} & found}
        more |= {
            c.name
            for c in classes
            if any(isinstance(s, ast.Assign) and {_name(t) for t in s.targets} & {"error_code"} for s in c.body)
        } - found
        if not more:
            return found
        found |= more


def code_uses(trees: dict[Path, ast.Module]) -> Iterator[Use]:
    """Every expression that gives an error its code."""
    classes = error_classes(trees)
    for path, tree in trees.items():
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                callee = _name(node.func)
                if callee in classes:
                    yield from (Use(f"{where}:{node.lineno}", k.value) for k in node.keywords if k.arg == "code")
                if callee in CODE_ARGUMENTS:
                    yield from (Use(f"{where}:{node.lineno}", a) for a in node.args[CODE_ARGUMENTS[callee]])
            elif isinstance(node, ast.ClassDef) and node.name in classes:
                for statement in node.body:
                    targets = (
                        statement.targets
                        if isinstance(statement, ast.Assign)
                        else [statement.target]
                        if isinstance(statement, ast.AnnAssign)
                        else []
                    )
                    value = getattr(statement, "value", None)
                    if value is not None and {_name(t) for t in targets} & CODE_ATTRIBUTES:
                        yield Use(f"{where}:{statement.lineno}", value)


def code_enums(trees: dict[Path, ast.Module]) -> dict[str, str]:
    """{class name: file} of every ErrorCode subclass defined in the code base."""
    enums = {"ErrorCode": "core/errors.py"}
    classes = [
        (node, path) for path, tree in trees.items() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
    ]
    while True:
        more = {
            node.name: str(path.relative_to(ROOT))
            for node, path in classes
            if node.name not in enums and {_name(b) for b in node.bases} & set(enums)
        }
        if not more:
            return enums
        enums |= more


def test_every_code_raised_is_a_registered_member_raised_by_name(trees):
    areas = {type(member).__name__: type(member) for members in registry().values() for member in members}
    bare, unknown = [], []
    uses = list(code_uses(trees))
    assert len(uses) > 150, "the scan finds the code base's errors"
    for use in uses:
        node = use.node
        if isinstance(node, ast.Constant):
            bare.append(f"{use.where}: {node.value!r}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id.endswith("Code"):
            area = areas.get(node.value.id)
            if area is None or node.attr not in area.__members__:
                unknown.append(f"{use.where}: {node.value.id}.{node.attr}")
        # anything else passes a code through (a variable holding a member, `error.code`)
    assert not bare, "raise codes by name (an area's ErrorCode member), not as strings:\n" + "\n".join(bare)
    assert not unknown, "codes that are not in the registry:\n" + "\n".join(unknown)


def test_every_error_code_enum_lives_in_an_errors_module_and_is_registered(trees):
    enums = code_enums(trees)
    misplaced = [f"{name} in {file}" for name, file in enums.items() if not file.endswith("errors.py")]
    assert not misplaced, "define ErrorCode subclasses in <app>/errors.py (the registry imports those):\n" + "\n".join(
        misplaced
    )
    registered = {type(member).__name__ for members in registry().values() for member in members}
    assert set(enums) - {"ErrorCode"} == registered


def test_the_registry_is_a_sorted_union_of_the_areas():
    codes = registry()
    assert list(codes) == sorted(codes)
    assert "validation_error" in codes and "invalid_transition" in codes and "bad_json" in codes
    assert codes["other_office"] and {type(m).__name__ for m in codes["other_office"]} >= {"AccountErrorCode"}
    assert CoreErrorCode.NOT_FOUND == "not_found" and CoreErrorCode.NOT_FOUND.description
    assert all(isinstance(member, ErrorCode) for members in codes.values() for member in members)


@pytest.mark.django_db
def test_the_openapi_error_lists_every_code_with_its_meaning(openapi_schema):
    code = openapi_schema["components"]["schemas"]["ErrorDetail"]["properties"]["code"]
    assert code["enum"] == list(registry())
    for value, members in registry().items():
        assert f"`{value}`" in code["description"]
        for member in members:
            assert member.description in code["description"]


def test_the_asyncapi_lists_every_code_and_close_code():
    from messaging.asyncapi import document  # noqa: PLC0415 - loads the consumer

    asyncapi = document()
    code = asyncapi["components"]["schemas"]["ErrorData"]["properties"]["code"]
    assert code["enum"] == list(registry())
    assert set(asyncapi["channels"]["socket"]["x-close-codes"]) >= {"4401", "4403", "4408", "4429", "4503"}


def test_the_scan_finds_bare_strings_and_unknown_members():
    source = """
class Refused(Conflict):
    default_code = "refused"

def f():
    raise Refused("no", code="taken")
    raise ValidationFailed("no", code=LeadErrorCode.NO_SUCH_MEMBER)
    return error_body("oops", "text"), error_response(CoreErrorCode.NOT_FOUND, "gone")
"""
    uses = list(code_uses({ROOT / "x.py": ast.parse(source)}))
    assert sorted(ast.unparse(use.node) for use in uses) == sorted(
        ["'refused'", "'taken'", "LeadErrorCode.NO_SUCH_MEMBER", "'oops'", "CoreErrorCode.NOT_FOUND", "'gone'"]
    )
