"""Staff console pages: the reports dashboard (charts) and the live conversation monitor."""

from datetime import date

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse

from core.errors import ApplicationError
from reports.selectors import REPORTS, report_scope_for


def _day(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def dashboard(request):
    """Charts of every report, filtered by date range and office (the same selectors as the API)."""
    user = request.user
    office = request.GET.get("office") or None
    try:
        scope = report_scope_for(user, date_from=_day(request.GET.get("date_from")), date_to=_day(request.GET.get("date_to")),
                                 office_id=int(office) if office and office.isdigit() else None)
    except ApplicationError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from exc
        raise Http404(exc.message) from exc
    from offices.selectors import office_list_for

    figures = {name: build(scope) for name, build in REPORTS.items()}
    return TemplateResponse(request, "admin/reports/dashboard.html", {
        **admin.site.each_context(request), "title": "Reports", "scope": scope, "figures": figures,
        "offices": office_list_for(user), "is_super_admin": user.role == "super_admin",
    })


def monitor_list(request):
    from messaging import selectors, services
    from messaging.models import AuditAction

    if request.user.role not in ("manager", "super_admin"):
        raise PermissionDenied("Only managers and super admins monitor conversations.")
    conversations = list(selectors.monitoring_list(request.user)[:100])
    services.monitoring_audit_record(actor=request.user, action=AuditAction.MONITOR_LIST,
                                     office_id=request.user.office_id, details={"via": "admin"})
    return TemplateResponse(request, "admin/monitor/list.html", {
        **admin.site.each_context(request), "title": "Live conversation monitor", "conversations": conversations,
    })


def monitor_detail(request, conversation_id):
    from core.errors import NotFound
    from messaging import events, selectors, services
    from messaging.models import AuditAction

    try:
        conversation = selectors.conversation_get_for_monitoring(request.user, conversation_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    services.monitoring_audit_record(actor=request.user, action=AuditAction.MONITOR_READ, conversation=conversation,
                                     details={"via": "admin"})
    messages, _ = selectors.messages_page(conversation, limit=100)
    return TemplateResponse(request, "admin/monitor/detail.html", {
        **admin.site.each_context(request), "title": str(conversation), "conversation": conversation,
        "participants": [p.user for p in conversation.participants.select_related("user")],
        "history": [events.message_payload(m) for m in messages],
    })
