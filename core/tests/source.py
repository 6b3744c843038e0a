"""The project's own Python files, for the tests that read the code base (module sizes, error codes): found
from the top folders, without walking .venv's ~45,000 files to throw them away."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_SOURCE = {"var", "node_modules", "artifacts", "static", "templates"}


def python_files() -> Iterator[Path]:
    """Every .py file of the project, in a stable order (hidden folders, such as .venv, are not the project's)."""
    for top in sorted(ROOT.iterdir()):
        if top.name.startswith(".") or top.name in NOT_SOURCE:
            continue
        if top.is_dir():
            yield from sorted(path for path in top.rglob("*.py") if not NOT_SOURCE & set(path.parts))
        elif top.suffix == ".py":
            yield top
