from django.urls import re_path

from reports.api.views import ApplicationsReportView, report_view
from reports.selectors import REPORTS

urlpatterns = [
    *[re_path(rf"^reports/{name}/?$", report_view(name), name=f"report-{name}") for name in REPORTS],
    re_path(r"^reports/applications/?$", ApplicationsReportView.as_view(), name="report-applications"),
]
