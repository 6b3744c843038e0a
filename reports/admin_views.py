"""Staff console pages: the reports dashboard (charts) and the live conversation monitor."""

from datetime import date, timedelta

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse

from appointments.models import AppointmentStatus
from core.errors import ApplicationError, NotFound
from core.views import bad_request_page
from leads.models import LeadSource, LeadStatus
from messaging import events, selectors, services
from messaging.console_rows import conversation_rows
from messaging.models import AuditAction
from offices.selectors import office_list_for
from reports.selectors import REPORTS, report_scope_for, utc_today

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
    }


def dashboard(request):
    """Charts of every report, filtered by date range and office (the same selectors as the API)."""
    user = request.user
    office = request.GET.get("office") or None
    date_from, date_to = _day(request.GET.get("date_from")), _day(request.GET.get("date_to"))
    if date_from is None and date_to is None:
        today = utc_today()
        date_from, date_to = today - timedelta(days=DEFAULT_DAYS_BACK), today + timedelta(days=DEFAULT_DAYS_AHEAD)
    try:
        scope = report_scope_for(
            user, date_from=date_from, date_to=date_to, office_id=int(office) if office and office.isdigit() else None
        )
    except ApplicationError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from exc
        if exc.status_code == 400:  # dates the reports cannot cover: say so in the console's frame
            return bad_request_page(request, title="Not a range the reports can show", reason=exc.message)
        raise Http404(exc.message) from exc
    figures = {name: build(scope) for name, build in REPORTS.items()}
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
        },
    )


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
                "edit_limit_ms": settings.MESSAGE_EDIT_TIME_LIMIT,
            },
        },
    )
