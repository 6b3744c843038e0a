"""Who may see which users. Every door (API, admin, socket, commands) asks these."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from accounts.models import ROLE_RANK, Role, User
from core.errors import NotFound


def user_list_for(user: User) -> QuerySet[User]:
    """Users `user` may see.

    super admin: everyone; manager: everyone in their office; consultant and receptionist:
    themselves and their office's staff and students; student: themselves only.
    """
    users = User.objects.select_related("office")
    if not user.is_active:
        return users.none()
    if user.role == Role.SUPER_ADMIN:
        return users.all()
    if user.role in (Role.MANAGER, Role.CONSULTANT, Role.RECEPTIONIST):
        return users.filter(Q(office_id=user.office_id) | Q(pk=user.pk))
    return users.filter(pk=user.pk)


def user_get_for(user: User, user_id) -> User:
    try:
        return user_list_for(user).get(pk=int(user_id))
    except (User.DoesNotExist, TypeError, ValueError):
        raise NotFound("User not found.") from None


def consultants_for(user: User, *, office_id: int | None = None) -> QuerySet[User]:
    """The active consultants `user` may see (one office's with `office_id`), by name: whom a lead is
    handed to, whose calendar and free slots a page shows."""
    consultants = user_list_for(user).filter(role=Role.CONSULTANT, is_active=True)
    if office_id is not None:
        consultants = consultants.filter(office_id=office_id)
    return consultants.order_by("first_name", "last_name", "id")


def user_can_manage(actor: User, target: User) -> bool:
    """Change, deactivate: super admins anyone but themselves; managers lower ranks in their office."""
    if not actor.is_active or actor.pk == target.pk:
        return False
    if actor.role == Role.SUPER_ADMIN:
        return True
    return (
        actor.role == Role.MANAGER
        and target.office_id == actor.office_id
        and ROLE_RANK[target.role] < ROLE_RANK[actor.role]
    )


# --- the student link: whom a lead reaches ------------------------------------------------------
# A lead may carry a student account (`Lead.student`). The link is the office's rule: it counts only
# when the student has no office yet (a website signup, every office's to claim) or belongs to the
# lead's own office. Whatever else a lead points at, a lead never widens who may see a student:
# every selector and service that goes from a lead to its student (documents, appointments,
# contacts, lead conversations) or back asks one of these. Written here, below leads and messaging,
# because messaging (which may not import leads) needs it too; it names the leads' fields, not the app.


def student_link_counts(*, student_office_id: int | None, lead_office_id: int | None) -> bool:
    """The rule itself, for a lead and a student already in hand (no query)."""
    return student_office_id is None or student_office_id == lead_office_id


def linked_leads_q() -> Q:
    """A filter of Lead rows: those whose student link counts."""
    return Q(student__isnull=False) & (Q(student__office__isnull=True) | Q(student__office_id=F("office_id")))


def leads_reaching_q(student: User, prefix: str = "") -> Q:
    """Lead rows (at `prefix`, e.g. "assigned_leads__" from a consultant) whose link reaches `student`.
    Use it in a single filter() call, so both conditions hold for the same lead."""
    reach = Q(**{f"{prefix}student": student})
    if student.office_id is not None:
        reach &= Q(**{f"{prefix}office_id": student.office_id})
    return reach
