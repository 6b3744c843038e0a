"""The console's inbox: a staff member's own conversations, answered over the same REST endpoints and
/ws/ socket as any client (static/console/inbox.js). Monitoring stays in reports.admin_views."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts.requests import signed_in_user
from core.errors import NotFound
from messaging import selectors
from messaging.console_rows import inbox_rows
from offices.console import console_office_in_view


def inbox(request: HttpRequest, conversation_id: str | None = None) -> TemplateResponse:
    user = signed_in_user(request)
    rows = inbox_rows(user, limit=50)
    current = participants = None
    if conversation_id is not None:
        try:
            membership = selectors.membership_get(user, conversation_id)
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
    return TemplateResponse(
        request,
        "admin/messaging/inbox.html",
        {
            **admin.site.each_context(request),
            "title": title,
            "rows": rows,
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
            },
            "accept": ",".join(settings.ALLOWED_FILE_TYPES),
            "max_length": settings.MESSAGE_MAX_LENGTH,
        },
    )
