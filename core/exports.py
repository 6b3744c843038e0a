"""CSV that is safe to open in a spreadsheet, streamed line by line (never built in memory)."""

import csv
from collections.abc import Iterable, Iterator
from typing import Any


def csv_safe(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; prefix them with a quote."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """One CSV line at a time, for StreamingHttpResponse and file writes alike."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)
