"""Which tasks a user may see (hidden means 404), and what the homes and the student workspace read."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import STAFF_ROLES, Role, User
from applications.selectors import application_list_for
from core.errors import NotFound
from followups.models import Task, TaskStatus
from leads.selectors import lead_list_for, students_for


def task_list_for(user: User) -> QuerySet[Task]:
    """super admin: all; manager: their office's, and any they hold or set; consultant and receptionist:
    those they hold or set; student: none."""
    tasks = Task.objects.select_related("assignee", "lead", "student", "application__student", "application__course")
    if not user.is_active or user.role not in STAFF_ROLES:
        return tasks.none()
    if user.role == Role.SUPER_ADMIN:
        return tasks.all()
    mine = Q(assignee=user) | Q(created_by=user)
    if user.role == Role.MANAGER:
        return tasks.filter(mine | Q(office_id=user.office_id))
    return tasks.filter(mine)


def task_get_for(user: User, task_id: object) -> Task:
    try:
        return task_list_for(user).get(pk=int(str(task_id)))
    except (Task.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound("Task not found.") from None


def open_tasks_for(
    user: User,
    *,
    mine: bool = False,
    lead_id: int | None = None,
    student_id: int | None = None,
    application_id: int | None = None,
) -> QuerySet[Task]:
    """Open tasks `user` may see, soonest due first: `mine` those they hold; with `student_id`, the tasks
    about the student, their leads and their applications (the student workspace); with `lead_id`, about
    that lead (and its student's, when linked)."""
    tasks = task_list_for(user).filter(status=TaskStatus.OPEN)
    if mine:
        tasks = tasks.filter(assignee=user)
    about = Q()
    if student_id is not None:
        about |= Q(student_id=student_id) | Q(lead__student_id=student_id) | Q(application__student_id=student_id)
    if lead_id is not None:
        about |= Q(lead_id=lead_id)
    if application_id is not None:
        about |= Q(application_id=application_id)
    return tasks.filter(about).order_by("due_at", "id")


def overdue_tasks_for(user: User, *, now: datetime | None = None, mine: bool = True) -> QuerySet[Task]:
    """Open tasks past their due time: those `user` holds (`mine`), or all they may see (a manager's office)."""
    return open_tasks_for(user, mine=mine).filter(due_at__lt=now or timezone.now())


def _tz(user: User) -> zoneinfo.ZoneInfo:
    office = user.office if user.office_id else None
    return office.tzinfo if office is not None else zoneinfo.ZoneInfo("UTC")


def tasks_due_today_for(user: User, *, now: datetime | None = None, mine: bool = True) -> QuerySet[Task]:
    """Open tasks due from now to the end of the user's day (their office's time zone), not yet overdue."""
    now = now or timezone.now()
    local = now.astimezone(_tz(user))
    end = datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=local.tzinfo)
    return open_tasks_for(user, mine=mine).filter(due_at__gte=now, due_at__lt=end)


def subject_visible_to(user: User, *, lead_id: int | None, student_id: int | None, application_id: int | None) -> bool:
    """Whether `user` may see what a task is about (the leads', students' and applications' own selectors)."""
    if lead_id is not None:
        return lead_list_for(user).filter(pk=lead_id).exists()
    if student_id is not None:
        return students_for(user).filter(pk=student_id).exists()
    if application_id is not None:
        return application_list_for(user).filter(pk=application_id).exists()
    return False


def tasks_filtered(
    tasks: QuerySet[Task],
    *,
    status: str | None = None,
    assignee_id: int | None = None,
    lead_id: int | None = None,
    student_id: int | None = None,
    application_id: int | None = None,
    overdue: bool | None = None,
    now: datetime | None = None,
) -> QuerySet[Task]:
    conditions = Q()
    if status:
        conditions &= Q(status=status)
    for name, value in (
        ("assignee_id", assignee_id),
        ("lead_id", lead_id),
        ("student_id", student_id),
        ("application_id", application_id),
    ):
        if value is not None:
            conditions &= Q(**{name: value})
    if overdue is not None:
        late = Q(status=TaskStatus.OPEN, due_at__lt=now or timezone.now())
        conditions &= late if overdue else ~late
    return tasks.filter(conditions)
