"""The console's inbox: a staff member's own conversations, answered over the same REST endpoints and
/ws/ socket as any client (static/console/inbox.js). Monitoring stays in reports.admin_views."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts.requests import signed_in_user
from core.errors import NotFound
from messaging import selectors
from messaging.console_rows import inbox_rows
from offices.console import console_office_in_view

# The inbox's tabs: each staff member's own triage of their conversations (open first, as Chatwoot's).
TABS = [("open", "Open"), ("snoozed", "Snoozed"), ("resolved", "Resolved"), ("all", "All")]


def _snooze_choices(now: datetime) -> list[tuple[str, str]]:
    """(label, ISO time) of the snooze menu, in the page's office time zone."""
    local = timezone.localtime(now)
    tomorrow = (local + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    monday = (local + timedelta(days=7 - local.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    return [
        ("For an hour", (now + timedelta(hours=1)).isoformat()),
        ("Until tomorrow 09:00", tomorrow.isoformat()),
        ("Until Monday 09:00", monday.isoformat()),
    ]


def inbox(request: HttpRequest, conversation_id: str | None = None) -> TemplateResponse:
    user = signed_in_user(request)
    tab = request.GET.get("status") or "open"
    if tab not in dict(TABS):
        tab = "open"
    q = (request.GET.get("q") or "").strip()[:100]
    rows = inbox_rows(user, limit=50, status=None if tab == "all" else tab, q=q)
    current = participants = membership = None
    if conversation_id is not None:
        try:
            membership = selectors.membership_with_triage(user, conversation_id)
        except NotFound:
            raise Http404("Conversation not found.") from None
        current = selectors.conversation_detail(membership.conversation_id)
        shown = getattr(request, "console_office", None)
        if current.office_id is not None and (shown is None or shown.pk != current.office_id):
            console_office_in_view(request, current.office)  # its office's clock, whoever reads it
        participants = [
            {
                "id": p.user_id,
                "name": p.user.full_name,
                "role": p.user.role,
                "last_read_seq": p.last_read_seq,
                "last_delivered_seq": p.last_delivered_seq,
            }
            for p in current.participants.all()
        ]
        for row in rows:
            row["current"] = row["conversation"].pk == current.pk
    title = selectors.conversation_title_for(current, user) if current else "Inbox"
    triage: str | None = getattr(membership, "triage", None)  # (membership_with_triage annotates it)
    return TemplateResponse(
        request,
        "admin/messaging/inbox.html",
        {
            **admin.site.each_context(request),
            "title": title,
            "rows": rows,
            "tabs": TABS,
            "tab": tab,
            "q": q,
            "triage": triage,
            "snooze_choices": _snooze_choices(timezone.now()),
            "current": current,
            "people": [p for p in (participants or []) if p["id"] != user.pk],
            "config": {
                "conversation_id": current.pk if current else None,
                "me": user.pk,
                "participants": participants or [],
                "edit_limit_ms": settings.MESSAGE_EDIT_TIME_LIMIT,
                "max_file_size": settings.MAX_FILE_SIZE,
                "max_files": settings.MAX_FILES_PER_MESSAGE,
                "change_url": reverse("admin:messaging_conversation_change", args=[0]),
                "contact_url": reverse("admin:console-contact", args=[current.pk]) if current else None,
                "triage": triage,
            },
            "accept": ",".join(settings.ALLOWED_FILE_TYPES),
            "max_length": settings.MESSAGE_MAX_LENGTH,
        },
    )
