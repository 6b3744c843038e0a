"""Writes on proposals: build (draft), change, send (`proposal_received` to the student after commit, a
notification), accept items (each a draft application, all in one transaction), decline, expire (the job)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import MANAGING_ROLES, Role, User
from applications.services import application_open
from catalogue.models import Course
from catalogue.selectors import courses_eligible
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.realtime import broadcast_to_users
from leads.models import ActivityKind
from notifications.models import NotificationKind
from notifications.services import notification_create
from proposals.errors import ProposalErrorCode as E
from proposals.models import Proposal, ProposalItem
from proposals.representation import proposal_payload
from proposals.selectors import living_costs, proposal_with_items
from proposals.states import ProposalStatus, effective_status, may_move
from students.selectors import applicant_of, profile_of
from students.services import student_timeline_record
from study.vocabulary import parse_intake

PROPOSAL_EVENT = "proposal_received"
PROPOSERS = MANAGING_ROLES | {Role.CONSULTANT}


def proposal_may_handle(actor: User, proposal: Proposal) -> bool:
    """Change, send: a super admin; a manager of its office; its consultant."""
    if not actor.is_active:
        return False
    if actor.role == Role.SUPER_ADMIN:
        return True
    if actor.role == Role.MANAGER:
        return proposal.office_id == actor.office_id
    return actor.role == Role.CONSULTANT and proposal.consultant_id == actor.pk


def _consultant_for(*, actor: User, student: User, consultant: User | None) -> User:
    if actor.role == Role.CONSULTANT:
        if consultant is not None and consultant.pk != actor.pk:
            raise Forbidden("Consultants propose courses themselves.")
        consultant = actor
    if consultant is None:
        lead = student.student_leads.filter(assigned_to__isnull=False).order_by("-id").select_related("assigned_to")
        found = lead.first()
        consultant = found.assigned_to if found is not None else None
    if (
        consultant is None
        or consultant.role != Role.CONSULTANT
        or not consultant.is_active
        or consultant.office_id != student.office_id
    ):
        raise ValidationFailed(
            "Name an active consultant of the student's office (consultant_id).", code=E.UNKNOWN_CONSULTANT
        )
    return consultant


def _items(*, student: User, asked: list[dict[str, Any]], today: date) -> list[ProposalItem]:
    """The items asked for, checked against the catalogue, with their estimate and eligibility. Three queries."""
    ids = {row["course_id"] for row in asked}
    courses = {c.pk: c for c in Course.objects.filter(pk__in=ids, is_active=True).select_related("university")}
    eligible = set(
        courses_eligible(Course.objects.filter(pk__in=ids), applicant_of(profile_of(student), today=today)).values_list(
            "pk", flat=True
        )
    )
    costs = living_costs({str(c.university.country) for c in courses.values()})
    items, seen = [], set()
    for position, row in enumerate(asked):
        course = courses.get(row["course_id"])
        if course is None:
            raise ValidationFailed(
                "Unknown course, or not open to applications.",
                code=E.UNKNOWN_COURSE,
                details={"course_id": row["course_id"]},
            )
        intake = parse_intake(row["intake"])
        if intake.month not in course.intakes:
            raise ValidationFailed(
                f"{course.name} starts in months {', '.join(map(str, course.intakes))} only.",
                code=E.INTAKE_NOT_OFFERED,
                details={"course_id": course.pk, "intakes": course.intakes},
            )
        if intake < today.replace(day=1):
            raise ValidationFailed(
                "That intake has already started.", code=E.INTAKE_IN_PAST, details={"course_id": course.pk}
            )
        if (course.pk, intake) in seen:
            raise ValidationFailed(
                "The same course and intake twice.", code=E.DUPLICATE_ITEM, details={"course_id": course.pk}
            )
        seen.add((course.pk, intake))
        living = costs.get(str(course.university.country))
        items.append(
            ProposalItem(
                course=course,
                intake=intake,
                note=row.get("note", "").strip(),
                position=position,
                eligible=course.pk in eligible,
                tuition=course.tuition_fee,
                currency=course.currency,
                living=living.amount if living is not None else None,
                living_currency=living.currency if living is not None else "",
            )
        )
    return items


def _check_expiry(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("A proposal expires in the future.", code=E.EXPIRY_IN_PAST)


@transaction.atomic
def proposal_create(
    *,
    actor: User,
    student: User,
    items: list[dict[str, Any]],
    message: str = "",
    expires_at: datetime | None = None,
    consultant: User | None = None,
) -> Proposal:
    """A draft proposal for a student `actor` may see (the door's selector). `items`: `{course_id, intake,
    note}`; a course the student is not eligible for is allowed, flagged `eligible: false`."""
    if not actor.is_active or actor.role not in PROPOSERS:
        raise Forbidden("Consultants, managers and super admins propose courses.")
    if student.role != Role.STUDENT:
        raise ValidationFailed("Unknown student.", code=E.UNKNOWN_STUDENT)
    if student.office_id is None:
        raise ValidationFailed(
            "The student belongs to no office yet: convert their lead first.", code=E.STUDENT_WITHOUT_OFFICE
        )
    if actor.role == Role.MANAGER and student.office_id != actor.office_id:
        raise ValidationFailed("Unknown student.", code=E.UNKNOWN_STUDENT)
    if not items:
        raise ValidationFailed("Propose at least one course.", code=E.NO_ITEMS)
    now = timezone.now()
    _check_expiry(expires_at, now)
    consultant = _consultant_for(actor=actor, student=student, consultant=consultant)
    rows = _items(student=student, asked=items, today=timezone.localdate())
    proposal = Proposal.objects.create(
        student=student,
        consultant=consultant,
        office_id=student.office_id,
        message=message.strip(),
        expires_at=expires_at,
        created_by=actor,
    )
    for row in rows:
        row.proposal = proposal
    ProposalItem.objects.bulk_create(rows)
    return proposal


def _locked(proposal: Proposal) -> Proposal:
    Proposal.objects.select_for_update().get(pk=proposal.pk)
    return Proposal.objects.select_related("student", "consultant").get(pk=proposal.pk)


@transaction.atomic
def proposal_update(*, actor: User, proposal: Proposal, data: dict[str, Any]) -> Proposal:
    """Changes a draft: its message, expiry, or its items (replaced whole)."""
    if not proposal_may_handle(actor, proposal):
        raise Forbidden("You cannot change this proposal.")
    proposal = _locked(proposal)
    if proposal.status != ProposalStatus.DRAFT:
        raise Conflict("Only a draft proposal is changed.", code=E.NOT_EDITABLE, details={"status": proposal.status})
    if "expires_at" in data:
        _check_expiry(data["expires_at"], timezone.now())
        proposal.expires_at = data["expires_at"]
    if "message" in data:
        proposal.message = data["message"].strip()
    if "items" in data:
        rows = _items(student=proposal.student, asked=data["items"], today=timezone.localdate())
        proposal.items.all().delete()
        for row in rows:
            row.proposal = proposal
        ProposalItem.objects.bulk_create(rows)
    proposal.save()
    return proposal


def _fresh(proposal: Proposal) -> Proposal:
    return proposal_with_items(proposal.pk)


@transaction.atomic
def proposal_send(*, actor: User, proposal: Proposal, expires_at: datetime | None = None) -> Proposal:
    """Draft → sent: the student is notified and gets `proposal_received` live after commit."""
    if not proposal_may_handle(actor, proposal):
        raise Forbidden("You cannot send this proposal.")
    proposal = _locked(proposal)
    if not may_move(proposal.status, ProposalStatus.SENT):
        raise Conflict(
            f"A {proposal.status} proposal cannot be sent.", code=E.INVALID_MOVE, details={"status": proposal.status}
        )
    now = timezone.now()
    if expires_at is not None:
        proposal.expires_at = expires_at
    if proposal.expires_at is None:
        raise ValidationFailed("Say until when the proposal stands (expires_at).", code=E.EXPIRY_REQUIRED)
    _check_expiry(proposal.expires_at, now)
    if not proposal.items.exists():
        raise ValidationFailed("Propose at least one course.", code=E.NO_ITEMS)
    proposal.status, proposal.sent_at = ProposalStatus.SENT, now
    proposal.save(update_fields=["status", "sent_at", "expires_at", "updated_at"])
    count = proposal.items.count()
    student_timeline_record(
        student=proposal.student,
        actor=actor,
        kind=ActivityKind.PROPOSAL,
        text=f"Proposal #{proposal.pk} sent: {count} course{'s' if count != 1 else ''}",
        data={"proposal_id": proposal.pk, "status": ProposalStatus.SENT},
    )
    notification_create(
        recipient=proposal.student,
        kind=NotificationKind.PROPOSAL_RECEIVED,
        title=f"{proposal.consultant.full_name} proposed {count} course{'s' if count != 1 else ''}",
        body=proposal.message[:500],
        data={"proposal_id": proposal.pk},
    )
    broadcast_to_users([proposal.student_id], PROPOSAL_EVENT, proposal_payload(_fresh(proposal)))
    return proposal


@transaction.atomic
def proposal_accept(*, actor: User, proposal: Proposal, item_ids: list[int]) -> list[Any]:
    """The student accepts some items: each becomes a draft application, all or none (one transaction).
    Someone else's proposal is not found (the selector hid it; checked here again for other doors)."""
    if actor.pk != proposal.student_id:
        raise NotFound("Proposal not found.")
    proposal = _locked(proposal)
    now = timezone.now()
    status = effective_status(proposal.status, proposal.expires_at, now)
    if status == ProposalStatus.EXPIRED:
        raise Conflict("This proposal has expired: ask your consultant for a new one.", code=E.EXPIRED)
    if not may_move(status, ProposalStatus.ACCEPTED):
        raise Conflict(f"A {status} proposal cannot be accepted.", code=E.INVALID_MOVE, details={"status": status})
    items = {item.pk: item for item in proposal.items.select_related("course__university")}
    unknown = sorted(set(item_ids) - set(items))
    if unknown:
        raise ValidationFailed("Not items of this proposal.", code=E.UNKNOWN_ITEM, details={"item_ids": unknown})
    applications = []
    for item_id in sorted(set(item_ids), key=lambda i: items[i].position):
        item = items[item_id]
        application = application_open(
            actor=actor,
            student=proposal.student,
            course=item.course,
            intake=item.intake,
            consultant=proposal.consultant,
            note=f"Accepted from proposal #{proposal.pk}",
        )
        item.application = application
        item.save(update_fields=["application"])
        applications.append(application)
    proposal.status, proposal.decided_at = ProposalStatus.ACCEPTED, now
    proposal.save(update_fields=["status", "decided_at", "updated_at"])
    student_timeline_record(
        student=proposal.student,
        actor=actor,
        kind=ActivityKind.PROPOSAL,
        text=f"Proposal #{proposal.pk} accepted: {len(applications)} of {len(items)} courses",
        data={"proposal_id": proposal.pk, "status": ProposalStatus.ACCEPTED, "item_ids": sorted(set(item_ids))},
    )
    return applications


@transaction.atomic
def proposal_decline(*, actor: User, proposal: Proposal, reason: str = "") -> Proposal:
    if actor.pk != proposal.student_id:
        raise NotFound("Proposal not found.")
    proposal = _locked(proposal)
    now = timezone.now()
    status = effective_status(proposal.status, proposal.expires_at, now)
    if status == ProposalStatus.EXPIRED:
        raise Conflict("This proposal has expired.", code=E.EXPIRED)
    if not may_move(status, ProposalStatus.DECLINED):
        raise Conflict(f"A {status} proposal cannot be declined.", code=E.INVALID_MOVE, details={"status": status})
    proposal.status, proposal.decided_at, proposal.decline_reason = ProposalStatus.DECLINED, now, reason.strip()[:500]
    proposal.save(update_fields=["status", "decided_at", "decline_reason", "updated_at"])
    student_timeline_record(
        student=proposal.student,
        actor=actor,
        kind=ActivityKind.PROPOSAL,
        text=f"Proposal #{proposal.pk} declined" + (f": {proposal.decline_reason}" if proposal.decline_reason else ""),
        data={"proposal_id": proposal.pk, "status": ProposalStatus.DECLINED},
    )
    if proposal.consultant.is_active:
        notification_create(
            recipient=proposal.consultant,
            kind=NotificationKind.PROPOSAL_DECLINED,
            title=f"{proposal.student.full_name} declined proposal #{proposal.pk}",
            body=proposal.decline_reason,
            data={"proposal_id": proposal.pk},
        )
    return proposal


def proposals_expire(*, now: datetime | None = None) -> int:
    """The beat job: sent proposals past their expiry become `expired` (one UPDATE; running twice, or
    two at once, changes nothing more). The accept checks the time too, so a late job refuses nothing late."""
    now = now or timezone.now()
    return Proposal.objects.filter(status=ProposalStatus.SENT, expires_at__lte=now).update(
        status=ProposalStatus.EXPIRED, updated_at=now
    )
