"""Progress for long commands: a tqdm bar on a terminal; in logs (not a terminal) one plain line per step."""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

from core.backup.archive import Bar, _NoBar


def progress_factory(out: TextIO):
    """A `core.backup.archive.ProgressFactory` writing to `out` when stderr is not a terminal."""

    def make(desc: str, total: int | None, unit: str) -> Bar:
        if sys.stderr.isatty():
            return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", unit_divisor=1024, leave=True)
        size = f" ({total:,} {unit})" if total else ""
        out.write(f"{desc}{size}...\n")
        return _NoBar()

    return make
