"""Which proposals a user may see (hidden means 404), and what the console's panels read."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from core.errors import NotFound
from proposals.models import LivingCost, Proposal, ProposalItem
from proposals.states import ProposalStatus


def _with_items() -> QuerySet[Proposal]:
    return Proposal.objects.select_related("student", "consultant").prefetch_related(
        Prefetch("items", queryset=ProposalItem.objects.select_related("course__university").order_by("position", "id"))
    )


def proposal_with_items(proposal_id: int) -> Proposal:
    """One proposal as the representation reads it, whoever asks (services, after their checks)."""
    return _with_items().get(pk=proposal_id)


def proposal_list_for(user: User) -> QuerySet[Proposal]:
    """super admin: all; manager: their office's; consultant: their own; student: theirs once sent (a
    draft is the consultant's work in progress); receptionist: none."""
    proposals = _with_items()
    if not user.is_active:
        return proposals.none()
    if user.role == Role.SUPER_ADMIN:
        return proposals.all()
    if user.role == Role.MANAGER:
        return proposals.filter(office=user.office_id)
    if user.role == Role.CONSULTANT:
        return proposals.filter(consultant=user)
    if user.role == Role.STUDENT:
        return proposals.filter(student=user).exclude(status=ProposalStatus.DRAFT)
    return proposals.none()


def proposal_get_for(user: User, proposal_id: object) -> Proposal:
    try:
        return proposal_list_for(user).get(pk=int(str(proposal_id)))
    except (Proposal.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound("Proposal not found.") from None


def proposals_for_student(user: User, student_id: int) -> QuerySet[Proposal]:
    """A student's proposals `user` may see, newest first (the console's workspace panel)."""
    return proposal_list_for(user).filter(student_id=student_id).order_by("-id")


def proposals_awaiting_student(user: User, *, now: datetime | None = None) -> QuerySet[Proposal]:
    """Sent, unexpired and not yet answered, among those `user` may see (a consultant's home: theirs; a
    manager's: the office's; a student's: what waits for their answer), the soonest to expire first."""
    return (
        proposal_list_for(user)
        .filter(status=ProposalStatus.SENT, expires_at__gt=now or timezone.now())
        .order_by("expires_at", "id")
    )


def living_costs(countries: set[str]) -> dict[str, LivingCost]:
    """The living cost table's rows for these countries, by code. One query."""
    return {str(row.country): row for row in LivingCost.objects.filter(country__in=sorted(countries))}


def proposals_filtered(
    proposals: QuerySet[Proposal], *, status: str | None = None, student_id: int | None = None
) -> QuerySet[Proposal]:
    conditions = Q()
    if status:
        conditions &= Q(status=status)
    if student_id:
        conditions &= Q(student_id=student_id)
    return proposals.filter(conditions)
