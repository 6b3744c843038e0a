"""The code's shape that docs/ARCHITECTURE.md promises, checked on the source: imports run downhill, and
roles are compared through `accounts.models.Role`, never as string literals."""

import ast
import re
from pathlib import Path

from django.apps import apps

from accounts.models import Role

ROOT = Path(__file__).resolve().parents[2]
# Bottom first. An app's code imports apps on its own layer or below, never above (the table in
# docs/ARCHITECTURE.md). Not layered: tests, migrations, and crm_project (settings, URLs, ASGI: the top).
LAYERS = [
    {"core"},
    {"accounts", "offices"},  # a user belongs to an office; an office lists its people
    {"study"},  # the words of studying abroad (levels, intakes, scores), shared by leads, profiles, the catalogue
    {"notifications", "devices"},  # push targets; notifications deliver to them
    {"messaging"},
    {"leads"},
    {"students"},  # profiles: seen by whoever may see the student (leads.selectors.students_for)
    {"catalogue"},  # courses matched to a profile
    {"appointments", "documents"},
    {"applications"},  # a course, a student, their documents
    {"followups", "proposals"},  # tasks on a lead, student or application; shortlists that open applications
    {"reports"},
    {"onboarding", "privacy", "console", "demo", "clients"},
]
LAYER = {app: n for n, layer in enumerate(LAYERS) for app in layer}


def code_files(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        if not {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
            yield path


def imported_apps(path: Path):
    """(app, line) for every import of a layered app, at module top or inside a function."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        for module in modules:
            if module.split(".")[0] in LAYER:
                yield module.split(".")[0], node.lineno


def test_every_installed_app_of_the_project_has_a_layer():
    ours = {config.name.split(".")[0] for config in apps.get_app_configs() if Path(config.path).parent == ROOT}
    assert ours - {"crm_project"} == set(LAYER) - {"clients"}  # clients: CI tooling, not installed


def test_imports_run_downhill():
    uphill = [
        f"{path.relative_to(ROOT)}:{line} imports {app}"
        for own in LAYER
        for path in code_files(own)
        for app, line in imported_apps(path)
        if LAYER[app] > LAYER[own]
    ]
    assert uphill == []


NOT_YET_CHECKED: set[str] = set()


def _is_role_literal(node) -> bool:
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_role_literal(item) for item in node.elts)
    return isinstance(node, ast.Constant) and node.value in Role.values


def _is_a_role(node) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "role") or (
        isinstance(node, ast.Name) and "role" in node.id
    )


def role_literals(path: Path):
    """A role compared with a role's value (`user.role == "manager"`, `role in ("manager", ...)`), and
    `role=` / `role__in=` arguments given one."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_a_role(side) for side in sides) and any(_is_role_literal(side) for side in sides):
                yield node.lineno
        if isinstance(node, ast.keyword) and (node.arg or "").startswith("role") and _is_role_literal(node.value):
            yield node.value.lineno


def test_roles_are_compared_through_the_enum():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for app in sorted(set(LAYER) - NOT_YET_CHECKED)
        for path in code_files(app)
        for line in role_literals(path)
    ]
    templates = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"role\s*[!=]=\s*['\"]", line)
    ]
    assert found + templates == []
