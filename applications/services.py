"""Writes on applications: one service for every door (REST, console, commands, and the proposals to
come). Every move, the creation included, is a `status_history` entry, a line on the student's
timeline, a notification to the student and the consultant (`notifications.services`, kind
`application`), and `application_updated` to the student, the consultant and the office's managers
after commit (`core.realtime`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import MANAGING_ROLES, Role, User
from applications.checklists import checklist_for
from applications.errors import ApplicationErrorCode
from applications.models import Application, StatusChange
from applications.representation import application_payload
from applications.transitions import FINAL, ApplicationStatus, Move, confirmation_for, next_statuses
from applications.validation import ApplicationChangeSerializer, TransitionInputSerializer, clean
from catalogue.models import Course
from core.errors import Conflict, Forbidden, ValidationFailed
from core.realtime import broadcast_to_users
from documents.models import Document, DocumentKind
from leads.models import ActivityKind
from notifications.models import NotificationKind
from notifications.services import notifications_create
from students.services import student_timeline_record
from study.vocabulary import format_intake

S = ApplicationStatus
APPLICATION_EVENT = "application_updated"
# Who handles applications (each within `application_may_handle`); the console's buttons read these too.
APPLICATION_HANDLERS = MANAGING_ROLES | {Role.CONSULTANT}
CHECKLIST_OVERRIDERS = MANAGING_ROLES
# The documents each part of an application may link, by kind.
DOCUMENT_KINDS = {
    "offer": {DocumentKind.OFFER_LETTER},
    "confirmation": {DocumentKind.CAS, DocumentKind.I20, DocumentKind.COE, DocumentKind.LOA},
    "visa": {DocumentKind.VISA_DECISION, DocumentKind.VISA},
}
# From which status on each part of an application may be filled in (a move or a later change).
DETAILS_FROM = {
    "offer": (
        S.CONDITIONAL_OFFER,
        S.UNCONDITIONAL_OFFER,
        S.OFFER_ACCEPTED,
        S.DEPOSIT_PAID,
        S.CONFIRMATION_ISSUED,
        S.VISA_APPLIED,
        S.VISA_GRANTED,
        S.VISA_REFUSED,
        S.ENROLLED,
    ),
    "confirmation": (S.CONFIRMATION_ISSUED, S.VISA_APPLIED, S.VISA_GRANTED, S.VISA_REFUSED, S.ENROLLED),
    "visa": (S.VISA_APPLIED, S.VISA_GRANTED, S.VISA_REFUSED, S.ENROLLED),
}


def application_may_handle(actor: User, application: Application) -> bool:
    """Move or change it: a super admin; a manager of its office; its consultant."""
    if not actor.is_active:
        return False
    if actor.role == Role.SUPER_ADMIN:
        return True
    if actor.role == Role.MANAGER:
        return application.office_id == actor.office_id
    return actor.role == Role.CONSULTANT and application.consultant_id == actor.pk


def application_allowed_moves(actor: User, application: Application) -> list[str]:
    """What the console offers this user on this application: the status's moves, if they may handle it."""
    return list(next_statuses(application.status)) if application_may_handle(actor, application) else []


# --- the side effects of every move ---------------------------------------------------------------


def _announce(application: Application, *, actor: User, change: StatusChange) -> None:
    """Timeline, notifications and the live event of one move (inside the move's transaction)."""
    course = application.course
    what = f"{course.name}, {course.university.name} ({format_intake(application.intake)})"
    label = S(change.to_status).label
    text = f"Application {what}: " + (
        f"{S(change.from_status).label} → {label}" if change.from_status else "started as a draft"
    )
    if change.note:
        text += f" ({change.note})"
    student_timeline_record(
        student=application.student,
        actor=actor,
        kind=ActivityKind.APPLICATION,
        text=text[:2000],
        data={"application_id": application.pk, "from": change.from_status, "to": change.to_status},
    )
    recipients = [u for u in (application.student, application.consultant) if u.pk != actor.pk and u.is_active]
    if recipients:
        notifications_create(
            recipients=recipients,
            kind=NotificationKind.APPLICATION,
            title=f"{course.university.name}: {label}",
            body=f"{course.name} ({format_intake(application.intake)})" + (f": {change.note}" if change.note else ""),
            data={"application_id": application.pk, "status": change.to_status},
        )
    fresh = Application.objects.select_related("student", "consultant", "course", "course__university").get(
        pk=application.pk
    )
    managers = User.objects.filter(role=Role.MANAGER, office_id=application.office_id, is_active=True)
    people = {application.student_id, application.consultant_id, *managers.values_list("pk", flat=True)}
    broadcast_to_users(people, APPLICATION_EVENT, application_payload(fresh))


def _record(
    application: Application,
    *,
    actor: User,
    from_status: str,
    note: str,
    override: bool = False,
    data: dict[str, Any] | None = None,
) -> StatusChange:
    change = StatusChange.objects.create(
        application=application,
        from_status=from_status,
        to_status=application.status,
        actor=actor,
        note=note.strip()[:2000],
        checklist_override=override,
        data=data or {},
    )
    _announce(application, actor=actor, change=change)
    return change


# --- opening --------------------------------------------------------------------------------------


def _check_new(*, student: User, course: Course, intake: date, consultant: User, today: date) -> None:
    if student.role != Role.STUDENT:
        raise ValidationFailed("Unknown student.", code=ApplicationErrorCode.UNKNOWN_STUDENT)
    if student.office_id is None:
        raise ValidationFailed(
            "The student belongs to no office yet: convert their lead first.",
            code=ApplicationErrorCode.STUDENT_WITHOUT_OFFICE,
        )
    if not course.is_active:
        raise ValidationFailed("This course is not open to applications.", code=ApplicationErrorCode.COURSE_UNAVAILABLE)
    if intake.month not in course.intakes:
        raise ValidationFailed(
            f"{course.name} starts in months {', '.join(map(str, course.intakes))} only.",
            code=ApplicationErrorCode.INTAKE_NOT_OFFERED,
            details={"intakes": course.intakes},
        )
    if intake < today.replace(day=1):
        raise ValidationFailed("This intake has already started.", code=ApplicationErrorCode.INTAKE_IN_PAST)
    if consultant.role != Role.CONSULTANT or not consultant.is_active or consultant.office_id != student.office_id:
        raise ValidationFailed(
            "The consultant is an active consultant of the student's office.",
            code=ApplicationErrorCode.UNKNOWN_CONSULTANT,
        )


@transaction.atomic
def application_open(
    *, actor: User, student: User, course: Course, intake: date, consultant: User, note: str = ""
) -> Application:
    """A new draft application. No permission check: the caller's (`application_create` for staff; a
    proposal's accept, where the student chose among courses their consultant proposed)."""
    _check_new(student=student, course=course, intake=intake, consultant=consultant, today=timezone.localdate())
    assert student.office_id is not None  # (_check_new refused a student without an office)
    application = Application(
        student=student,
        course=course,
        intake=intake,
        consultant=consultant,
        office_id=student.office_id,
        destination=course.university.country,
        created_by=actor,
    )
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError as exc:
        if "application_one_open_per_intake" not in str(exc):
            raise
        existing = (
            Application.objects.filter(student=student, course=course, intake=intake)
            .exclude(status__in=FINAL)
            .values_list("pk", flat=True)
            .first()
        )
        raise Conflict(
            "The student already has an open application to this course for this intake.",
            code=ApplicationErrorCode.APPLICATION_EXISTS,
            details={"application_id": existing},
        ) from None
    _record(application, actor=actor, from_status="", note=note)
    return application


def _default_consultant(actor: User, student: User) -> User | None:
    if actor.role == Role.CONSULTANT:
        return actor
    lead = student.student_leads.filter(assigned_to__isnull=False).order_by("-id").select_related("assigned_to").first()
    return lead.assigned_to if lead is not None else None


def application_create(
    *, actor: User, student: User, course: Course, intake: date, consultant: User | None = None, note: str = ""
) -> Application:
    """Staff open an application for a student they may see (the door's selector): consultants for
    themselves, managers for a consultant of their office."""
    if not actor.is_active or actor.role not in APPLICATION_HANDLERS:
        raise Forbidden("Consultants, managers and super admins open applications.")
    if actor.role == Role.MANAGER and student.office_id not in (None, actor.office_id):
        raise Forbidden("You open applications for your own office's students.", code=ApplicationErrorCode.OTHER_OFFICE)
    if consultant is None:
        consultant = _default_consultant(actor, student)
        if consultant is None:
            raise ValidationFailed(
                "Choose the consultant who handles it (consultant_id).", code=ApplicationErrorCode.UNKNOWN_CONSULTANT
            )
    elif actor.role == Role.CONSULTANT and consultant.pk != actor.pk:
        raise Forbidden("Consultants open applications they handle themselves.")
    return application_open(
        actor=actor, student=student, course=course, intake=intake, consultant=consultant, note=note
    )


# --- moving ---------------------------------------------------------------------------------------


def _document(application: Application, part: str, document_id: int | None) -> Document | None:
    """A document of the application's student, of a kind that part links (else 400)."""
    if document_id is None:
        return None
    document = Document.objects.filter(
        pk=document_id, student_id=application.student_id, deleted_at__isnull=True
    ).first()
    if document is None:
        raise ValidationFailed(
            "Unknown document: upload it for the student first.",
            code=ApplicationErrorCode.UNKNOWN_DOCUMENT,
            details={"part": part, "document_id": document_id},
        )
    if document.kind not in DOCUMENT_KINDS[part]:
        raise ValidationFailed(
            f"The {part} links a document of kind {' or '.join(sorted(DOCUMENT_KINDS[part]))}.",
            code=ApplicationErrorCode.WRONG_DOCUMENT,
            details={"part": part, "kind": document.kind},
        )
    return document


def _fill(application: Application, details: dict[str, Any], *, status: str, today: date) -> list[str]:
    """Writes the offer / confirmation / visa parts given, where `status` allows them; returns what changed."""
    changed = []
    for part in ("offer", "confirmation", "visa"):
        given = details.get(part)
        if given is None:
            continue
        if status not in DETAILS_FROM[part]:
            raise ValidationFailed(
                f"An application {status} has no {part} yet.",
                code=ApplicationErrorCode.NOT_EDITABLE,
                details={"part": part, "status": status},
            )
        if "document_id" in given:
            document = _document(application, part, given["document_id"])
            setattr(application, f"{part}_document", document)
        fields = {
            "offer": {
                "conditions": "offer_conditions",
                "deposit_amount": "deposit_amount",
                "deposit_due": "deposit_due",
            },
            "confirmation": {"kind": "confirmation_kind", "number": "confirmation_number"},
            "visa": {"applied_on": "visa_applied_on", "decided_on": "visa_decided_on", "reference": "visa_reference"},
        }[part]
        for name, column in fields.items():
            if name in given:
                setattr(application, column, given[name] if given[name] is not None else _blank(column))
        changed.append(part)
    # What a move implies when not said: the destination's confirmation, today's visa dates.
    if status == S.CONFIRMATION_ISSUED and not application.confirmation_kind:
        application.confirmation_kind = confirmation_for(str(application.destination))
    if status == S.VISA_APPLIED and application.visa_applied_on is None:
        application.visa_applied_on = today
    if status in (S.VISA_GRANTED, S.VISA_REFUSED) and application.visa_decided_on is None:
        application.visa_decided_on = today
    return changed


def _blank(column: str) -> Any:
    return None if column in ("deposit_amount", "deposit_due", "visa_applied_on", "visa_decided_on") else ""


def _locked(application: Application) -> Application:
    # The row alone under the lock (no joins: PostgreSQL rechecks the locked row only), then its relations.
    locked = Application.objects.select_for_update().get(pk=application.pk)
    return Application.objects.select_related("student", "consultant", "course", "course__university").get(pk=locked.pk)


@transaction.atomic
def application_transition(*, actor: User, application: Application, data: dict[str, Any]) -> Application:
    """Moves an application (`data`: `to`, `note`, `from_status`, `override_checklist`, `offer`,
    `confirmation`, `visa`). Under the row's lock: of two concurrent moves one wins, the other is
    checked against what the first left (409 `invalid_transition`, or `stale_status` with `from_status`)."""
    if not application_may_handle(actor, application):
        raise Forbidden("You cannot move this application.")
    asked = clean(TransitionInputSerializer, data)
    application = _locked(application)
    current, to, note = application.status, asked["to"], asked["note"]
    offer = asked.get("offer") or {}
    Move(
        current=current,
        to=to,
        reason=note,
        expected=asked["from_status"],
        conditions=offer.get("conditions", application.offer_conditions) if to == S.CONDITIONAL_OFFER else "",
    ).check()
    override = False
    if to == S.SUBMITTED:
        checklist = checklist_for(application)
        if not checklist.complete:
            if not asked["override_checklist"]:
                raise Conflict(
                    "Every required document is approved before an application is submitted.",
                    code=ApplicationErrorCode.CHECKLIST_INCOMPLETE,
                    details={"missing": checklist.missing, "progress": checklist.progress},
                )
            if actor.role not in CHECKLIST_OVERRIDERS:
                raise Forbidden(
                    "Only managers submit with an incomplete checklist.",
                    code=ApplicationErrorCode.OVERRIDE_NOT_ALLOWED,
                )
            if not note.strip():
                raise ValidationFailed(
                    "Say why the checklist is overridden (`note`).", code=ApplicationErrorCode.REASON_REQUIRED
                )
            override = True
    filled = _fill(application, asked, status=to, today=timezone.localdate())
    application.status = to
    application.save()
    data_recorded: dict[str, Any] = {"details": filled} if filled else {}
    if override:
        data_recorded["missing"] = checklist.missing
    _record(application, actor=actor, from_status=current, note=note, override=override, data=data_recorded)
    return application


@transaction.atomic
def application_change(*, actor: User, application: Application, data: dict[str, Any]) -> Application:
    """Corrects an application's offer, confirmation or visa details, or (managers) hands it to another
    consultant of its office. Not a move: a timeline line, no status_history entry."""
    if not application_may_handle(actor, application):
        raise Forbidden("You cannot change this application.")
    asked = clean(ApplicationChangeSerializer, data)
    application = _locked(application)
    if application.status in FINAL and set(asked) - {"offer", "confirmation", "visa"}:
        raise ValidationFailed("A closed application keeps its consultant.", code=ApplicationErrorCode.NOT_EDITABLE)
    changed = _fill(application, asked, status=application.status, today=timezone.localdate())
    if "consultant_id" in asked and asked["consultant_id"] != application.consultant_id:
        if actor.role not in MANAGING_ROLES:
            raise Forbidden("Managers hand applications to another consultant.")
        consultant = User.objects.filter(
            pk=asked["consultant_id"], role=Role.CONSULTANT, is_active=True, office_id=application.office_id
        ).first()
        if consultant is None:
            raise ValidationFailed(
                "The consultant is an active consultant of the application's office.",
                code=ApplicationErrorCode.UNKNOWN_CONSULTANT,
            )
        application.consultant = consultant
        changed.append("consultant")
    if changed:
        application.save()
        student_timeline_record(
            student=application.student,
            actor=actor,
            kind=ActivityKind.APPLICATION,
            text=f"Application #{application.pk}: {', '.join(changed)} updated",
            data={"application_id": application.pk, "changed": changed},
        )
        fresh = Application.objects.select_related("student", "consultant", "course", "course__university").get(
            pk=application.pk
        )
        managers = User.objects.filter(role=Role.MANAGER, office_id=application.office_id, is_active=True)
        people = {application.student_id, application.consultant_id, *managers.values_list("pk", flat=True)}
        broadcast_to_users(people, APPLICATION_EVENT, application_payload(fresh))
    return application
