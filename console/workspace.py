"""The student workspace (issue 22): one console page per lead or student that opens on what staff act on:
the timeline with a note box, the next appointment with "book", the conversation with "reply" (the inbox's
ChatView, static/console/chat.js), documents with their review, applications with their checklists and
moves, open tasks, proposals, and the profile beside the contact panel (`console.contact.contact_card`,
the inbox's). The stock edit form is one click away.

`/admin/console/lead/<id>/` and `/admin/console/student/<id>/`: the lead or the student through the apps'
selectors with the viewer's scope (hidden: 404); everything on the page through the same selectors, in a
fixed number of queries (pinned in console/tests/test_workspace.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.db.models import Q
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from applications.admin_views import application_tools
from applications.checklists import checklists_for
from applications.selectors import application_list_for
from appointments.models import AppointmentStatus
from appointments.selectors import appointment_list_for
from console.contact import contact_card
from core.errors import NotFound
from documents.selectors import document_list_for
from documents.services import DOCUMENT_REVIEWERS
from leads.admin_views import lead_tools
from leads.models import Lead
from leads.selectors import lead_get_for, lead_list_for, timeline_for
from messaging.selectors import member_conversations, monitorable_conversations, participants_of
from students.selectors import profile_view, student_get_for

TIMELINE = 30
DOCUMENTS = 20
APPOINTMENTS = 3


def _subject(viewer: User, kind: str, pk: int) -> tuple[User | None, Lead | None]:
    """The student and lead of the page, as the viewer may see them; 404 when the one asked for is hidden."""
    try:
        if kind == "lead":
            lead = lead_get_for(viewer, pk)
            return lead.linked_student, lead
        student = student_get_for(viewer, pk)
    except NotFound:
        raise Http404("Not found.") from None
    # The student's latest lead the viewer may see (their notes and stage), if any.
    latest = lead_list_for(viewer).filter(student=student).order_by("-created_at", "-id").first()
    return student, latest


def workspace_context(request, *, student: User | None, lead: Lead | None) -> dict:
    viewer = request.user
    here = request.get_full_path()
    contact = contact_card(viewer, student=student, lead=lead)
    owner = Q(pk__in=[])
    if student is not None:
        owner |= Q(student=student)
    if lead is not None:
        owner |= Q(lead=lead)
        lead_tools(viewer, lead, [])  # (assigning is the contact panel's transfer)
    appointments = list(
        appointment_list_for(viewer)
        .filter(owner, status=AppointmentStatus.SCHEDULED, end__gt=timezone.now())
        .order_by("start")[:APPOINTMENTS]
    )
    documents = list(document_list_for(viewer).filter(owner).order_by("-created_at", "-id")[:DOCUMENTS])
    applications = (
        list(application_list_for(viewer).filter(student=student).order_by("-updated_at", "-id"))
        if student is not None
        else []
    )
    checklists = checklists_for(applications)
    for application in applications:
        application_tools(viewer, application, checklists[application.pk])
    return {
        "subject": {"student": student, "lead": lead, "name": (student or lead).full_name},  # type: ignore[union-attr]
        "contact": contact,
        "next": here,
        "timeline": list(timeline_for(lead=lead, student=student, limit=TIMELINE)),
        "appointments": appointments,
        "book_url": reverse("admin:appointments_appointment_calendar") + (f"?lead={lead.pk}" if lead else ""),
        "documents": documents,
        "may_review": viewer.role in DOCUMENT_REVIEWERS,
        "applications": applications,
        "profile": profile_view(viewer, student, today=timezone.localdate()) if student is not None else None,
        "wishes": lead.preferences if lead is not None and student is None else None,
        "chat": _conversation(viewer, student),
        "edit_url": (
            reverse("admin:leads_lead_change", args=[lead.pk])
            if lead is not None
            else reverse("admin:accounts_user_change", args=[student.pk])  # type: ignore[union-attr]
        ),
    }


def _conversation(viewer: User, student: User | None) -> dict | None:
    """The viewer's own conversation with the student, to reply in (the inbox's ChatView); for a monitor who
    is not in it, a link to the audited monitor; None without a student account."""
    if student is None:
        return None
    mine = (
        member_conversations(viewer)
        .filter(participants__user=student)
        .order_by("-last_activity_at", "-id")
        .only("id", "office_id")
        .first()
    )
    if mine is None:
        theirs = monitorable_conversations(viewer).filter(participants__user=student).order_by("-id").first()
        return {"monitor_url": reverse("admin-monitor-detail", args=[theirs.pk])} if theirs is not None else {}
    people = [
        {
            "id": p.user_id,
            "name": p.user.full_name,
            "role": p.user.role,
            "last_read_seq": p.last_read_seq,
            "last_delivered_seq": p.last_delivered_seq,
        }
        for p in participants_of(mine)
    ]
    return {
        "id": mine.pk,
        "inbox_url": reverse("admin:messaging_conversation_change", args=[mine.pk]),
        "config": {
            "conversation_id": mine.pk,
            "me": viewer.pk,
            "participants": people,
            "edit_limit_ms": settings.MESSAGE_EDIT_TIME_LIMIT,
            "max_file_size": settings.MAX_FILE_SIZE,
            "max_files": settings.MAX_FILES_PER_MESSAGE,
        },
    }


def workspace(request, kind: str, pk: int):
    student, lead = _subject(request.user, kind, pk)
    context = workspace_context(request, student=student, lead=lead)
    return TemplateResponse(
        request,
        "admin/console/workspace.html",
        {
            **admin.site.each_context(request),
            **context,
            "title": context["subject"]["name"],
            "accept": ",".join(settings.ALLOWED_FILE_TYPES),
            "max_length": settings.MESSAGE_MAX_LENGTH,
        },
    )
