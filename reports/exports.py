"""A report as CSV: the same numbers as its JSON, one `section, key, field, value` row each, for
spreadsheets. The API (`?format=csv`) and the console's export links write it here."""

from __future__ import annotations

import csv
import io

from reports.selectors import REPORTS, ReportScope

CSV_HEADER = ["section", "key", "field", "value"]


def flatten(report: dict) -> list[list]:
    rows = []
    for section, value in report.items():
        if section == "scope":
            continue
        if isinstance(value, dict):
            rows += [[section, key, "", item] for key, item in value.items()]
        elif isinstance(value, list):
            for item in value:
                label = next(iter(item.values()))
                rows += [[section, label, field, v] for field, v in list(item.items())[1:]]
        else:
            rows.append([section, "", "", value])
    return rows


def report_csv(name: str, scope: ReportScope) -> tuple[str, str]:
    """(file name, CSV text) of report `name` over `scope`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    writer.writerows(flatten(REPORTS[name](scope)))
    return f"report-{name}-{scope.date_from}-{scope.date_to}.csv", buffer.getvalue()
