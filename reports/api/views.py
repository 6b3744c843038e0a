from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.api.serializers import REPORT_SERIALIZERS, ApplicationsReportSerializer
from reports.applications import application_report_scope_for, applications_report
from reports.exports import application_report_csv, report_csv
from reports.selectors import REPORTS, report_scope_for
from study.serializers import CountryField, IntakeField
from study.vocabulary import parse_intake


class ReportQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    office = serializers.IntegerField(min_value=1, required=False)
    format = serializers.ChoiceField(choices=["json", "csv"], required=False, default="json")


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
        if query.validated_data["format"] != "csv":
            return Response(REPORTS[self.report](scope))
        filename, text = report_csv(self.report, scope)
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
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
        if asked["format"] != "csv":
            return Response(applications_report(scope))
        filename, text = application_report_csv(scope)
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
