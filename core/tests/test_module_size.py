"""No application module over 450 lines (issue 26): a module that grows past it is split along its
domain's lines (see how leads/rules.py, leads/duplicates.py, leads/imports.py, messaging/api/canned.py,
messaging/asyncapi_payloads.py, core/backup/restore.py and bench/drill_*.py left their modules). Tests and migrations
are not application modules."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 450

# Over the limit, each with its reason; nothing else may join this list.
ALLOWED: dict[str, int] = {}


def application_modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0].startswith(".") or parts[0] in ("var", "node_modules") or "migrations" in parts or "tests" in parts:
            continue
        yield path.relative_to(ROOT).as_posix(), path


def test_no_application_module_is_over_450_lines():
    over = {}
    for name, path in application_modules():
        lines = len(path.read_text().splitlines())
        if lines > ALLOWED.get(name, MAX_LINES):
            over[name] = lines
    assert not over, f"over {MAX_LINES} lines (split along the domain's lines): {over}"


def test_the_allow_list_only_shrinks():
    """An allowed module that shrank lowers its entry (or leaves the list once at or under the limit)."""
    sizes = {name: len(path.read_text().splitlines()) for name, path in application_modules()}
    stale = {name: sizes.get(name) for name, limit in ALLOWED.items() if sizes.get(name, 0) < limit}
    assert not stale, f"lower these ALLOWED entries in core/tests/test_module_size.py to the sizes now: {stale}"
