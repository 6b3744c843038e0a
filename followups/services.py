"""Writes on tasks: set, change, complete (a line on the subject's timeline), and the reminder job that
tells each assignee once at the due time (a notification and `task_due` live), however many workers run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import STAFF_ROLES, User
from accounts.selectors import user_list_for
from applications.models import Application
from core.errors import Forbidden, NotFound, ValidationFailed
from core.realtime import broadcast_to_users
from followups.errors import TaskErrorCode as E
from followups.models import Task, TaskStatus
from followups.representation import task_payload
from followups.selectors import subject_visible_to, task_list_for
from leads.models import ActivityKind, Lead
from leads.services import activity_record
from notifications.models import NotificationKind
from notifications.services import notifications_create
from students.services import student_timeline_record

TASK_EVENT = "task_due"
_SELECTED = ("assignee", "lead", "student", "application__student", "application__course")


def task_may_change(actor: User, task: Task) -> bool:
    """Whoever may see it (the selector) changes it: its assignee, who set it, its office's managers."""
    return task_list_for(actor).filter(pk=task.pk).exists()


def _assignee(actor: User, assignee_id: int | None) -> User:
    if assignee_id is None or assignee_id == actor.pk:
        return actor
    found = user_list_for(actor).filter(pk=assignee_id).first()
    if found is None or not found.is_active or found.role not in STAFF_ROLES:
        raise ValidationFailed("The assignee is an active member of staff you may name.", code=E.UNKNOWN_ASSIGNEE)
    return found


def _office_of(*, lead: Lead | None, student: User | None, application: Application | None) -> int | None:
    if lead is not None:
        return lead.office_id
    if application is not None:
        return application.office_id
    return student.office_id if student is not None else None


def _check_assignee_sees(assignee: User, *, lead_id, student_id, application_id) -> None:
    if not subject_visible_to(assignee, lead_id=lead_id, student_id=student_id, application_id=application_id):
        raise ValidationFailed(
            f"{assignee.full_name} may not see what this task is about: choose someone who can.",
            code=E.ASSIGNEE_CANNOT_SEE,
            details={"assignee_id": assignee.pk},
        )


@transaction.atomic
def task_create(
    *,
    actor: User,
    title: str,
    due_at: datetime,
    lead_id: int | None = None,
    student_id: int | None = None,
    application_id: int | None = None,
    assignee_id: int | None = None,
    priority: str = "normal",
    notes: str = "",
) -> Task:
    """A task about one lead, student or application `actor` may see (else 400, as an unknown one), for
    a member of staff who may see it too (else refused)."""
    if not actor.is_active or actor.role not in STAFF_ROLES:
        raise Forbidden("Staff set tasks.")
    if sum(x is not None for x in (lead_id, student_id, application_id)) != 1:
        raise ValidationFailed("Name exactly one of lead_id, student_id, application_id.", code=E.ONE_SUBJECT)
    if not subject_visible_to(actor, lead_id=lead_id, student_id=student_id, application_id=application_id):
        raise ValidationFailed("Unknown lead, student or application.", code=E.UNKNOWN_SUBJECT)
    assignee = _assignee(actor, assignee_id)
    _check_assignee_sees(assignee, lead_id=lead_id, student_id=student_id, application_id=application_id)
    lead = Lead.objects.get(pk=lead_id) if lead_id is not None else None
    student = User.objects.get(pk=student_id) if student_id is not None else None
    application = Application.objects.get(pk=application_id) if application_id is not None else None
    return Task.objects.create(
        title=title.strip(),
        notes=notes.strip(),
        due_at=due_at,
        priority=priority,
        assignee=assignee,
        lead=lead,
        student=student,
        application=application,
        office_id=_office_of(lead=lead, student=student, application=application),
        created_by=actor,
    )


def _timeline(task: Task, *, actor: User) -> None:
    """A done task is a line on its subject's timeline: the lead's, else the student's."""
    text = f"Task done: {task.title}"
    data = {"task_id": task.pk}
    if task.lead is not None:
        activity_record(lead=task.lead, actor=actor, kind=ActivityKind.TASK, text=text, data=data)
        return
    student = task.student or (task.application.student if task.application else None)
    if student is not None:
        if task.application_id:
            data["application_id"] = task.application_id
        student_timeline_record(student=student, actor=actor, kind=ActivityKind.TASK, text=text, data=data)


@transaction.atomic
def task_update(*, actor: User, task: Task, data: dict[str, Any]) -> Task:
    """Changes a task (`data` from TaskChangeSerializer): a new due time is reminded again; `status: done`
    completes it (on the timeline), `open` reopens it."""
    if not task_may_change(actor, task):
        raise NotFound("Task not found.")
    Task.objects.select_for_update().get(pk=task.pk)
    task = Task.objects.select_related(*_SELECTED).get(pk=task.pk)
    if "assignee_id" in data and data["assignee_id"] != task.assignee_id:
        assignee = _assignee(actor, data["assignee_id"])
        _check_assignee_sees(
            assignee, lead_id=task.lead_id, student_id=task.student_id, application_id=task.application_id
        )
        task.assignee, task.reminded_at = assignee, None
    for name in ("title", "notes", "priority"):
        if name in data:
            setattr(task, name, data[name].strip() if isinstance(data[name], str) else data[name])
    if "due_at" in data and data["due_at"] != task.due_at:
        task.due_at, task.reminded_at = data["due_at"], None
    status = data.get("status")
    if status == TaskStatus.DONE and task.status != TaskStatus.DONE:
        task.status, task.done_at, task.done_by = TaskStatus.DONE, timezone.now(), actor
        _timeline(task, actor=actor)
    elif status == TaskStatus.OPEN and task.status != TaskStatus.OPEN:
        task.status, task.done_at, task.done_by = TaskStatus.OPEN, None, None
    task.save()
    return task


def task_complete(*, actor: User, task: Task) -> Task:
    return task_update(actor=actor, task=task, data={"status": TaskStatus.DONE})


@transaction.atomic
def task_delete(*, actor: User, task: Task) -> None:
    if not task_may_change(actor, task):
        raise NotFound("Task not found.")
    task.delete()


_CLAIM = """
UPDATE followups_task SET reminded_at = %s
WHERE id IN (
    SELECT id FROM followups_task
    WHERE status = 'open' AND reminded_at IS NULL AND due_at <= %s
    ORDER BY due_at, id LIMIT %s
    FOR UPDATE SKIP LOCKED
)
AND reminded_at IS NULL
RETURNING id
"""


def task_reminders_send(*, now: datetime | None = None, batch: int = 500) -> int:
    """Reminds each assignee of their tasks now due: a notification (push and email per their
    preferences) and `task_due` live. Each task is claimed once by one UPDATE … WHERE reminded_at IS NULL
    RETURNING (rows another run holds are skipped), in the same transaction as its notifications: two
    workers running at once remind each task once; a run that fails rolls its claim back."""
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM, [now, now, batch])
            ids = [row[0] for row in cursor.fetchall()]
        tasks = list(Task.objects.filter(pk__in=ids).select_related(*_SELECTED).order_by("due_at", "id"))
        for task in tasks:
            if not task.assignee.is_active:
                continue
            notifications_create(
                recipients=[task.assignee],
                kind=NotificationKind.TASK_DUE,
                title=f"Task due: {task.title}",
                body=task.notes[:500],
                data={
                    "task_id": task.pk,
                    "lead_id": task.lead_id,
                    "student_id": task.student_id,
                    "application_id": task.application_id,
                },
            )
            broadcast_to_users([task.assignee_id], TASK_EVENT, task_payload(task))
    return len(tasks)
