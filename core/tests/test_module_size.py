"""No application module over 450 lines (issue 26): a module that grows past it is split along its
domain's lines (see how leads/rules.py, leads/duplicates.py, leads/imports.py, messaging/api/canned.py,
messaging/asyncapi_payloads.py, core/backup/restore.py and bench/drill_*.py left their modules). Tests and migrations
are not application modules."""

from core.tests.source import ROOT, python_files

MAX_LINES = 450


def application_modules():
    for path in python_files():
        parts = path.relative_to(ROOT).parts
        if "migrations" not in parts and "tests" not in parts:
            yield path.relative_to(ROOT).as_posix(), path


def test_no_application_module_is_over_450_lines():
    sizes = {name: len(path.read_text().splitlines()) for name, path in application_modules()}
    assert "messaging/services/messages.py" in sizes and "crm_project/settings/base.py" in sizes  # the walk finds them
    over = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert not over, f"over {MAX_LINES} lines (split along the domain's lines): {over}"
