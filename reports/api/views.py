import csv
import io

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.api.serializers import REPORT_SERIALIZERS
from reports.selectors import REPORTS, report_scope_for


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
