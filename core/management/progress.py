"""Progress for long commands: a tqdm bar on a terminal; in logs (not a terminal) one plain line per step."""

from __future__ import annotations

import sys

from django.core.management.base import OutputWrapper
from tqdm import tqdm

from core.backup.archive import Bar, ProgressFactory, no_progress


def progress_factory(out: OutputWrapper) -> ProgressFactory:
    """A `core.backup.archive.ProgressFactory` writing to `out` when stderr is not a terminal."""

    def make(desc: str, total: int | None, unit: str) -> Bar:
        if sys.stderr.isatty():
            return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", unit_divisor=1024, leave=True)
        size = f" ({total:,} {unit})" if total else ""
        out.write(f"{desc}{size}...\n")
        return no_progress(desc, total, unit)

    return make
