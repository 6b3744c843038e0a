"""Staff console pages: the reports dashboard (charts) and the live conversation monitor."""

from datetime import date, timedelta
from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from applications.transitions import ApplicationStatus
from appointments.models import AppointmentStatus
from core.errors import ApplicationError, NotFound
from core.views import bad_request_page
from leads.models import LeadSource, LeadStatus
from messaging import events, selectors, services
from messaging.console_rows import conversation_rows
from messaging.models import AuditAction
from offices.console import console_office_in_view
from offices.selectors import office_list_for
from reports.applications import ApplicationReportScope, application_report_scope_for, applications_report
from reports.exports import application_report_csv, report_csv
from reports.selectors import REPORTS, ReportScope, report_scope_for, utc_today

# The console's default range: the last 30 days and the next 30, so booked appointments count.
DEFAULT_DAYS_BACK, DEFAULT_DAYS_AHEAD = 29, 30


def _day(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _labels() -> dict:
    return {
        "status": dict(LeadStatus.choices),
        "source": dict(LeadSource.choices),
        "appointment": dict(AppointmentStatus.choices),
        "application": dict(ApplicationStatus.choices),
    }


class _RangeRefused(Exception):
    """Dates the reports cannot cover (past what they count): the page answers 400, never a 500."""


def _refusing_bad_ranges(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except _RangeRefused as exc:
            return bad_request_page(request, title="Not a range the reports can show", reason=str(exc))

    return wrapped


def _scope(request) -> ReportScope:
    """The dashboard's range and office from its query (the export links carry the same query)."""
    office = request.GET.get("office") or None
    date_from, date_to = _day(request.GET.get("date_from")), _day(request.GET.get("date_to"))
    if date_from is None and date_to is None:
        today = utc_today()
        date_from, date_to = today - timedelta(days=DEFAULT_DAYS_BACK), today + timedelta(days=DEFAULT_DAYS_AHEAD)
    try:
        return report_scope_for(
            request.user,
            date_from=date_from,
            date_to=date_to,
            office_id=int(office) if office and office.isdigit() else None,
        )
    except ApplicationError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from exc
        if exc.status_code == 400:  # dates the reports cannot cover: say so in the console's frame
            raise _RangeRefused(exc.message) from exc
        raise Http404(exc.message) from exc


def _application_scope(request, scope: ReportScope) -> ApplicationReportScope:
    """The applications report over the dashboard's office and dates (its creations in that range)."""
    return application_report_scope_for(
        request.user, office_id=scope.office_id, date_from=scope.date_from, date_to=scope.date_to
    )


@_refusing_bad_ranges
def dashboard(request):
    """Charts of every report, filtered by date range and office (the same selectors as the API)."""
    user = request.user
    scope = _scope(request)
    figures = {name: build(scope) for name, build in REPORTS.items()}
    figures["applications"] = applications_report(_application_scope(request, scope))
    return TemplateResponse(
        request,
        "admin/reports/dashboard.html",
        {
            **admin.site.each_context(request),
            "title": "Reports",
            "scope": scope,
            "figures": figures,
            "offices": office_list_for(user),
            "is_super_admin": user.is_super_admin,
            "chart_data": {**figures, "labels": _labels(), "today": utc_today().isoformat()},
            "exports": [(name, name.title()) for name in [*REPORTS, "applications"]],
            "export_query": urlencode(
                {
                    "date_from": scope.date_from.isoformat(),
                    "date_to": scope.date_to.isoformat(),
                    **({"office": scope.office_id} if scope.office_id else {}),
                }
            ),
        },
    )


@_refusing_bad_ranges
def dashboard_export(request, report: str):
    """A report as CSV for the signed-in staff member: the dashboard's scope, the API's numbers
    (reports.exports), on the console session (the API itself is bearer-only: docs/console.md)."""
    if report == "applications":
        filename, text = application_report_csv(_application_scope(request, _scope(request)))
    elif report in REPORTS:
        filename, text = report_csv(report, _scope(request))
    else:
        raise Http404("No such report.")
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def monitor_list(request):
    """Every conversation the viewer may monitor, most recent activity first. The page refreshes its
    rows every few seconds while visible (`?rows=1`); each read is audited like the first."""
    if not selectors.monitors_conversations(request.user):
        raise PermissionDenied("Only managers and super admins monitor conversations.")
    conversations = list(selectors.monitoring_list(request.user)[:100])
    services.monitoring_audit_record(
        actor=request.user, action=AuditAction.MONITOR_LIST, office_id=request.user.office_id, details={"via": "admin"}
    )
    template = "admin/monitor/_rows.html" if request.GET.get("rows") == "1" else "admin/monitor/list.html"
    return TemplateResponse(
        request,
        template,
        {
            **admin.site.each_context(request),
            "title": "Live conversation monitor",
            "rows": conversation_rows(conversations, request.user, monitor=True),
            "every_office": selectors.monitors_every_conversation(request.user),
        },
    )


def monitor_detail(request, conversation_id):
    try:
        conversation = selectors.conversation_get_for_monitoring(request.user, conversation_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    services.monitoring_audit_record(
        actor=request.user, action=AuditAction.MONITOR_READ, conversation=conversation, details={"via": "admin"}
    )
    shown = getattr(request, "console_office", None)
    if conversation.office_id is not None and (shown is None or shown.pk != conversation.office_id):
        console_office_in_view(request, conversation.office)  # its office's clock, whoever reads it
    messages, more = selectors.messages_page(conversation, limit=50)
    participants = [p.user for p in conversation.participants.select_related("user")]
    return TemplateResponse(
        request,
        "admin/monitor/detail.html",
        {
            **admin.site.each_context(request),
            "title": selectors.conversation_title_for(conversation, request.user),
            "conversation": conversation,
            "participants": participants,
            "history": [events.message_payload(m) for m in messages],
            "config": {
                "conversation_id": conversation.pk,
                "me": request.user.pk,
                "more": more,
                "participants": [{"id": u.pk, "name": u.full_name} for u in participants],
                "contact_url": reverse("admin:console-contact", args=[conversation.pk]),
                "edit_limit_ms": settings.MESSAGE_EDIT_TIME_LIMIT,
            },
        },
    )
