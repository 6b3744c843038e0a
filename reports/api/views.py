import csv
import io

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.api.serializers import REPORT_SERIALIZERS, ApplicationsReportSerializer
from reports.applications import application_report_scope_for, applications_report
from reports.selectors import REPORTS, report_scope_for
from study.serializers import CountryField, IntakeField
from study.vocabulary import parse_intake


class ReportQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    office = serializers.IntegerField(min_value=1, required=False)
    format = serializers.ChoiceField(choices=["json", "csv"], required=False, default="json")


def flatten(report: dict) -> list[list]:
    """The same numbers as the JSON, one `section, key, field, value` row each, for spreadsheets."""
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


class ReportView(APIView):
    report = ""

    def get(self, request):  # documented per report in report_view
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        scope = report_scope_for(
            request.user,
            date_from=query.validated_data.get("date_from"),
            date_to=query.validated_data.get("date_to"),
            office_id=query.validated_data.get("office"),
        )
        report = REPORTS[self.report](scope)
        if query.validated_data["format"] != "csv":
            return Response(report)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["section", "key", "field", "value"])
        writer.writerows(flatten(report))
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="report-{self.report}-{scope.date_from}-{scope.date_to}.csv"'
        )
        return response


def report_view(name):
    view = type(f"{name.title()}ReportView", (ReportView,), {"report": name})
    schema = extend_schema(
        parameters=[ReportQuerySerializer],
        tags=["reports"],
        responses={200: REPORT_SERIALIZERS[name], (200, "text/csv"): str},
    )
    return extend_schema_view(get=schema)(view).as_view()


class ApplicationsReportQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, help_text="Applications opened from this day (default: all)")
    date_to = serializers.DateField(required=False)
    office = serializers.IntegerField(min_value=1, required=False)
    consultant = serializers.IntegerField(min_value=1, required=False)
    country = CountryField(required=False, help_text="Destination, ISO 3166 alpha-2")
    intake = IntakeField(required=False)
    format = serializers.ChoiceField(choices=["json", "csv"], required=False, default="json")


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


class ApplicationsReportView(APIView):
    @extend_schema(
        parameters=[ApplicationsReportQuerySerializer],
        tags=["reports"],
        responses={200: ApplicationsReportSerializer, (200, "text/csv"): str},
    )
    def get(self, request):
        query = ApplicationsReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        asked = query.validated_data
        scope = application_report_scope_for(
            request.user,
            office_id=asked.get("office"),
            consultant_id=asked.get("consultant"),
            country=asked.get("country"),
            intake=parse_intake(asked["intake"]) if asked.get("intake") else None,
            date_from=asked.get("date_from"),
            date_to=asked.get("date_to"),
        )
        report = applications_report(scope)
        if asked["format"] != "csv":
            return Response(report)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["section", "key", "field", "value"])
        writer.writerows(applications_csv(report))
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="report-applications.csv"'
        return response
