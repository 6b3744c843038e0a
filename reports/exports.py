"""A report as CSV: the same numbers as its JSON, one `section, key, field, value` row each, for
spreadsheets. The API (`?format=csv`) and the console's export links write it here."""

from __future__ import annotations

import csv
import io

from reports.applications import ApplicationReportScope, applications_report
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


def _csv(rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    return buffer.getvalue()


def report_csv(name: str, scope: ReportScope) -> tuple[str, str]:
    """(file name, CSV text) of report `name` over `scope`."""
    return f"report-{name}-{scope.date_from}-{scope.date_to}.csv", _csv(flatten(REPORTS[name](scope)))


def applications_csv(report: dict) -> list[list]:
    """The same numbers as the JSON: `section, key, field, value` rows (each breakdown row by its key)."""
    rows: list[list] = [["total", "", "", report["total"]]]
    rows += [["by_status", status, "", n] for status, n in report["by_status"].items()]
    rows += [["funnel", step["status"], "reached", step["reached"]] for step in report["funnel"]]
    rows += [
        ["rates", "offer_rate", "", report["offer_rate"]],
        ["rates", "visa_success_rate", "", report["visa_success_rate"]],
    ]
    rows += [["median_days", f"{m['from']}>{m['to']}", "days", m["median_days"]] for m in report["median_days"]]
    for section in ("by_office", "by_consultant", "by_country", "by_intake"):
        for row in report[section]:
            rows += [[section, row["label"], field, value] for field, value in list(row.items())[2:]]
    for row in report["expected_commission"]:
        key = f"{row['intake']} {row['currency']}"
        rows += [["expected_commission", key, f, row[f]] for f in ("applications", "expected", "enrolled")]
    return rows


def application_report_csv(scope: ApplicationReportScope) -> tuple[str, str]:
    """(file name, CSV text) of the applications report over `scope`."""
    dates = f"-{scope.date_from}-{scope.date_to}" if scope.date_from and scope.date_to else ""
    return f"report-applications{dates}.csv", _csv(applications_csv(applications_report(scope)))
