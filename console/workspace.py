"""The student workspace (issue 22): one console page per lead or student that opens on what staff act on:
the timeline with a note box, the next appointment with "book", the conversation with "reply" (the inbox's
ChatView, static/console/chat.js), documents with their review, applications with their checklists and
moves, open tasks, proposals, and the profile beside the contact panel (`console.contact.contact_card`,
the inbox's). The stock edit form is one click away.

`/admin/console/lead/<id>/` and `/admin/console/student/<id>/`: the lead or the student through the apps'
selectors with the viewer's scope (hidden: 404); everything on the page through the same selectors, in a
fixed number of queries (pinned in console/tests/test_workspace.py)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from applications.admin_views import application_tools
from applications.checklists import checklists_for
from applications.selectors import application_list_for
from appointments.models import AppointmentStatus
from appointments.selectors import appointment_list_for
from catalogue.selectors import course_list_for, course_ordering, courses_eligible
from console.contact import contact_card
from core.errors import ApplicationError, CoreErrorCode, NotFound, ValidationFailed
from documents.selectors import document_list_for
from documents.services import DOCUMENT_REVIEWERS
from followups.models import TaskPriority
from followups.selectors import open_tasks_for, task_get_for
from followups.services import task_complete, task_create
from leads.admin_views import lead_tools
from leads.models import Lead
from leads.selectors import lead_get_for, lead_list_for, timeline_for
from messaging.selectors import member_conversations, monitorable_conversations, participants_of
from proposals.selectors import proposals_for_student
from proposals.services import PROPOSERS, proposal_create, proposal_send
from students.selectors import applicant_of, profile_of, profile_view, student_get_for
from study.vocabulary import format_intake

TIMELINE = 30
DOCUMENTS = 20
APPOINTMENTS = 3
PROPOSAL_COURSES = 20  # the eligible courses the proposal form offers, best fit first
PROPOSAL_DAYS = 14  # a proposal's default time to answer


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
    tasks = list(
        open_tasks_for(viewer, student_id=student.pk if student else None, lead_id=lead.pk if lead else None)[:20]
    )
    for task in tasks:
        task.overdue = task.due_at < timezone.now()  # type: ignore[attr-defined]  # for the template
    proposals = list(proposals_for_student(viewer, student.pk)[:10]) if student is not None else []
    return {
        "tasks": tasks,
        "task_priorities": TaskPriority.choices,
        "task_due_default": f"{timezone.localdate() + timedelta(days=1)}T10:00",
        "proposals": proposals,
        "may_propose": student is not None and student.office_id is not None and viewer.role in PROPOSERS,
        "proposal_courses": _proposal_courses(viewer, student) if request.GET.get("propose") == "1" else None,
        "proposal_expiry_default": (timezone.localdate() + timedelta(days=PROPOSAL_DAYS)).isoformat(),
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


def _next_intake(months: list[int], today: date) -> date | None:
    """The first intake month of a course from next month on, within two years."""
    for ahead in range(1, 25):
        year, month = divmod(today.month - 1 + ahead, 12)
        if month + 1 in months:
            return date(today.year + year, month + 1, 1)
    return None


def _proposal_courses(viewer: User, student: User | None) -> list[dict] | None:
    """The proposal form's choices: the student's eligible courses, best fit first, each at its next intake."""
    if student is None or viewer.role not in PROPOSERS:
        return None
    today = timezone.localdate()
    applicant = applicant_of(profile_of(student), today=today)
    eligible = courses_eligible(course_list_for(viewer).filter(is_active=True), applicant).select_related("university")
    choices = []
    for course in eligible.order_by(*course_ordering(eligible=True, searched=False))[:PROPOSAL_COURSES]:
        intake = _next_intake(course.intakes or [], today)
        if intake is not None:
            month = format_intake(intake)
            choices.append({"course": course, "intake": month, "value": f"{course.pk}:{month}"})
    return choices


def _local_time(raw: str) -> datetime:
    """A `datetime-local` value, read in the page's office zone (the console's middleware)."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed("Give a due date and time.", code=CoreErrorCode.INVALID) from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _act(request, student: User | None, lead: Lead | None) -> str:
    """One workspace action through the apps' services: a task, a task done, a proposal sent."""
    viewer, post = request.user, request.POST
    act = post.get("act")
    if act == "task":
        task_create(
            actor=viewer,
            title=(post.get("title") or "")[:200],
            due_at=_local_time(post.get("due_at") or ""),
            priority=post.get("priority") or TaskPriority.NORMAL,
            notes=(post.get("notes") or "")[:5000],
            lead_id=lead.pk if lead is not None and student is None else None,
            student_id=student.pk if student is not None else None,
        )
        return "Task added."
    if act == "task_done":
        try:
            task = task_get_for(viewer, post.get("task"))
        except NotFound:
            raise Http404("Task not found.") from None
        task_complete(actor=viewer, task=task)
        return f"Done: {task.title}."
    if act == "proposal" and student is not None:
        items = []
        for value in post.getlist("course")[:PROPOSAL_COURSES]:
            course_id, _, intake = value.partition(":")
            if not course_id.isdigit():
                raise ValidationFailed("Choose courses from the list.", code=CoreErrorCode.INVALID)
            items.append({"course_id": int(course_id), "intake": intake})
        try:
            expires = datetime.combine(date.fromisoformat(post.get("expires_on") or ""), time(23, 59))
        except ValueError:
            raise ValidationFailed("Say until when the proposal stands.", code=CoreErrorCode.INVALID) from None
        with transaction.atomic():
            proposal = proposal_create(actor=viewer, student=student, items=items, message=post.get("message") or "")
            proposal_send(actor=viewer, proposal=proposal, expires_at=timezone.make_aware(expires))
        return f"Proposal of {len(items)} course{'s' if len(items) != 1 else ''} sent to {student.full_name}."
    raise ValidationFailed("Unknown action.", code=CoreErrorCode.INVALID)


def workspace(request, kind: str, pk: int):
    student, lead = _subject(request.user, kind, pk)
    if request.method == "POST":
        try:
            messages.success(request, _act(request, student, lead))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(request.path)
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
