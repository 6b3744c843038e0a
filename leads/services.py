"""Writes on leads. Every change lands on the lead's timeline here, never in a view."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.emails import canonical_email
from accounts.models import MANAGING_ROLES, Role, User
from accounts.selectors import student_link_counts, user_with_email
from accounts.services import email_check_new, student_office_claim
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.phones import InvalidPhone, phone_normalize, phone_normalize_or_keep
from leads.errors import LeadErrorCode
from leads.models import OPEN_STATUSES, Activity, ActivityKind, Lead, LeadSource, LeadStatus
from leads.routing import route_choose
from leads.selectors import lead_duplicates
from leads.signals import lead_converted
from messaging.models import Conversation
from messaging.services import conversation_ensure_direct, participant_replace
from notifications.services import notification_create
from study.serializers import preferences_clean

EDITABLE_FIELDS = ("first_name", "last_name", "email", "phone", "source", "preferences")
# Who may act on leads, by role; each also within the lead's own rule (`lead_may_change`, `lead_may_assign`).
# The console's buttons and admin permissions read these too.
LEAD_CREATORS = frozenset({Role.SUPER_ADMIN, Role.MANAGER, Role.RECEPTIONIST})
LEAD_CHANGERS = frozenset({Role.SUPER_ADMIN, Role.MANAGER, Role.CONSULTANT})
LEAD_ASSIGNERS = MANAGING_ROLES  # assign and delete


def activity_record(
    *,
    lead: Lead | None = None,
    student: User | None = None,
    actor: User | None,
    kind: str,
    text: str = "",
    data: dict | None = None,
) -> Activity:
    """One timeline entry; the other apps (appointments, documents) write through this too."""
    return Activity.objects.create(lead=lead, student=student, actor=actor, kind=kind, text=text, data=data or {})


def _can_manage(actor: User, lead: Lead) -> bool:
    """Change a lead: super admin; a manager of its office (or of the unassigned queue); its consultant."""
    if actor.role == Role.SUPER_ADMIN:
        return True
    if actor.role == Role.MANAGER:
        return lead.office_id in (None, actor.office_id)
    return actor.role == Role.CONSULTANT and lead.assigned_to_id == actor.pk


def lead_may_change(actor: User, lead: Lead) -> bool:
    """Whether `actor` may change this lead's status, convert or escalate it (what the console offers)."""
    return _can_manage(actor, lead)


def lead_may_assign(actor: User, lead: Lead) -> bool:
    """Assign (or delete) this lead: a super admin; a manager of its office or of the unassigned queue."""
    return actor.role in LEAD_ASSIGNERS and _can_manage(actor, lead)


def _can_see(actor: User, lead: Lead) -> bool:
    """The selector's rule for one lead already in hand (no query): who may read it and add notes."""
    if actor.role in (Role.MANAGER, Role.RECEPTIONIST) and lead.office_id == actor.office_id:
        return True
    return _can_manage(actor, lead)


# First key of the transaction-scoped advisory lock that serialises duplicate checks per office.
_DUPLICATE_LOCK_NAMESPACE = 0x1EAD


def _check_duplicates(*, actor: User, office_id, email, phone, exclude_pk=None, confirmed: bool) -> None:
    if confirmed or not (email or phone):
        return
    # Two receptionists typing in the same walk-in (or two runs of one import) must not both pass the
    # check: the lock holds until this transaction commits, so the second sees the first's lead.
    # (No unique constraint: a confirmed duplicate is allowed.)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_DUPLICATE_LOCK_NAMESPACE, office_id or 0])
    existing = lead_duplicates(office_id=office_id, email=email, phone=phone, exclude_pk=exclude_pk).first()
    if existing is not None:
        field = "email" if email and existing.email == canonical_email(email) else "phone"
        # The office keeps one lead per person, so the clash is reported to anyone who edits there; which
        # lead it is (id, name) only to someone who may see that lead (a consultant sees their own).
        details = (
            {"lead_id": existing.id, "field": field, "name": existing.full_name}
            if _can_see(actor, existing)
            else {"field": field}
        )
        raise Conflict(
            f"A lead with this {field} already exists in this office.",
            code=LeadErrorCode.DUPLICATE_LEAD,
            details=details,
        )


def _phone(raw: str, office) -> str:
    """The number as stored (E.164), read with the office's country for numbers typed the national way."""
    try:
        return phone_normalize(raw, region=office.country if office is not None else "")
    except InvalidPhone:
        raise ValidationFailed(
            "That is not a phone number: type it as dialled in the office's country, or with its country code.",
            code=LeadErrorCode.INVALID_PHONE,
            details={"phone": raw},
        ) from None


def _link_student(lead: Lead) -> None:
    """Staff creating or editing a lead link it to a student account of the lead's own office only
    (an unassigned lead: one with no office yet). Another office's student, or a website signup no
    office has claimed, stays unlinked, and the answer is the one an unknown email gets: a lead
    tells nobody which emails have accounts elsewhere. (Signups link their own leads:
    `lead_create_for_signup`; conversion claims an account no office has: `lead_convert`.)"""
    if lead.email and lead.student_id is None:
        same_office = Q(office__isnull=True) if lead.office_id is None else Q(office_id=lead.office_id)
        lead.student = user_with_email(lead.email).filter(same_office, role=Role.STUDENT).first()


def _office_of_new_lead(actor: User, office):
    """The office a lead created by `actor` goes to (a super admin's choice, else their own)."""
    if actor.role not in LEAD_CREATORS:
        raise Forbidden("Only receptionists, managers and super admins create leads.")
    if actor.role != Role.SUPER_ADMIN:
        if office is not None and office.pk != actor.office_id:
            raise Forbidden("You create leads for your own office.", code=LeadErrorCode.OTHER_OFFICE)
        office = actor.office
    return office


def lead_check_duplicates(
    *, actor: User, email: str = "", phone: str = "", office=None, lead: Lead | None = None
) -> None:
    """The duplicate check `lead_create` (no `lead`) or `lead_update` (`lead`) will run, without
    writing: the console's forms run it first, so the warning appears with what was typed still
    on the page. Raises Conflict `duplicate_lead`."""
    if lead is None:
        office = _office_of_new_lead(actor, office)
    _check_duplicates(
        actor=actor,
        office_id=lead.office_id if lead else (office.pk if office else None),
        email=email,
        phone=_phone(phone, lead.office if lead else office),
        exclude_pk=lead.pk if lead else None,
        confirmed=False,
    )


def lead_check_contact(*, email: str, phone: str) -> None:
    """A lead needs an email or a phone number: created, edited or imported (the console's form asks first)."""
    if not (email.strip() or phone.strip()):
        raise ValidationFailed("A lead needs an email or a phone number.", code=LeadErrorCode.CONTACT_REQUIRED)


@transaction.atomic
def lead_create(
    *,
    actor: User,
    first_name: str,
    last_name: str = "",
    email: str = "",
    phone: str = "",
    source: str = LeadSource.WALK_IN,
    office=None,
    confirm_duplicate: bool = False,
    preferences: dict | None = None,
) -> Lead:
    office = _office_of_new_lead(actor, office)
    lead_check_contact(email=email, phone=phone)
    wishes = preferences_clean(preferences) if preferences else {}
    phone = _phone(phone, office)
    _check_duplicates(
        actor=actor, office_id=office.pk if office else None, email=email, phone=phone, confirmed=confirm_duplicate
    )
    lead = Lead(
        first_name=first_name,
        last_name=last_name,
        email=canonical_email(email),
        phone=phone,
        source=source,
        office=office,
        created_by=actor,
        preferences=wishes,
    )
    _link_student(lead)
    lead.save()
    activity_record(
        lead=lead, actor=actor, kind=ActivityKind.CREATED, text=f"Lead created ({lead.get_source_display()})"
    )
    lead_route(lead=lead, actor=actor)  # (leads.routing: the one place a new lead finds its consultant)
    return lead


@transaction.atomic
def lead_create_for_signup(*, student: User) -> Lead | None:
    """A website signup: link the leads already known by that email; queue a new one otherwise."""
    known = Lead.objects.filter(email=canonical_email(student.email), student__isnull=True)
    if known.exists():
        for lead in known:
            lead.student = student
            lead.save(update_fields=["student", "updated_at"])
            activity_record(
                lead=lead, actor=student, kind=ActivityKind.NOTE, text="Signed up on the website; account linked"
            )
        return None
    lead = Lead.objects.create(
        first_name=student.first_name or student.email,
        last_name=student.last_name,
        email=student.email,
        phone=phone_normalize_or_keep(student.phone, region=student.office.country if student.office else ""),
        source=LeadSource.WEBSITE,
        office=student.office,
        student=student,
        created_by=student,
    )
    activity_record(lead=lead, actor=student, kind=ActivityKind.CREATED, text="Signed up on the website")
    lead_route(lead=lead, actor=student)  # (an office's signup only: the unassigned queue has no rules)
    return lead


@transaction.atomic
def lead_update(*, actor: User, lead: Lead, confirm_duplicate: bool = False, **changes) -> Lead:
    if not _can_manage(actor, lead):
        raise Forbidden("You cannot change this lead.")
    changes = {k: v for k, v in changes.items() if k in EDITABLE_FIELDS}
    if "email" in changes:
        changes["email"] = canonical_email(changes["email"])
    if "preferences" in changes:
        changes["preferences"] = preferences_clean(changes["preferences"])
    if "phone" in changes:
        changes["phone"] = _phone(changes["phone"], lead.office)
    lead_check_contact(email=changes.get("email", lead.email), phone=changes.get("phone", lead.phone))
    _check_duplicates(
        actor=actor,
        office_id=lead.office_id,
        email=changes.get("email", ""),
        phone=changes.get("phone", ""),
        exclude_pk=lead.pk,
        confirmed=confirm_duplicate,
    )
    for field, value in changes.items():
        setattr(lead, field, value)
    if "email" in changes:
        _link_student(lead)
    lead.save()
    if changes:
        activity_record(
            lead=lead, actor=actor, kind=ActivityKind.NOTE, text="Details updated", data={"fields": sorted(changes)}
        )
    return lead


def _locked(lead: Lead) -> Lead:
    # No joins under the lock: after waiting, PostgreSQL rechecks the locked row but not joined
    # rows, so a joined assigned_to could be stale. Related rows load afterwards.
    return Lead.objects.select_for_update().get(pk=lead.pk)


def lead_next_statuses(lead: Lead) -> list[str]:
    """Where `lead_change_status` may take this lead: a later open stage, or lost. (Converted is
    `lead_convert`'s; closed leads stay closed.) The console offers these and nothing else."""
    if lead.status not in OPEN_STATUSES:
        return []
    return [*OPEN_STATUSES[OPEN_STATUSES.index(lead.status) + 1 :], LeadStatus.LOST]


@transaction.atomic
def lead_change_status(*, actor: User, lead: Lead, status: str, lost_reason: str = "") -> Lead:
    """Forward through new → contacted → qualified → applied; `lost` (with a reason) from any open
    state; `converted` only through `lead_convert`. Closed leads stay closed."""
    lead = _locked(lead)
    if not _can_manage(actor, lead):
        raise Forbidden("You cannot change this lead.")
    if status not in LeadStatus.values:
        raise ValidationFailed("Unknown status.", code=LeadErrorCode.INVALID_STATUS)
    if lead.status not in OPEN_STATUSES:
        raise ValidationFailed(
            f"A {lead.status} lead cannot change status.",
            code=LeadErrorCode.INVALID_TRANSITION,
            details={"from": lead.status, "to": status},
        )
    if status == LeadStatus.CONVERTED:
        raise ValidationFailed(
            "Convert the lead to make it a student.",
            code=LeadErrorCode.INVALID_TRANSITION,
            details={"from": lead.status, "to": status},
        )
    if status == LeadStatus.LOST:
        if not lost_reason.strip():
            raise ValidationFailed("Say why the lead was lost.", code=LeadErrorCode.LOST_REASON_REQUIRED)
        lead.lost_reason = lost_reason.strip()[:255]
    elif status not in lead_next_statuses(lead):
        raise ValidationFailed(
            f"A lead cannot go from {lead.status} back to {status}.",
            code=LeadErrorCode.INVALID_TRANSITION,
            details={"from": lead.status, "to": status},
        )
    previous, lead.status = lead.status, status
    lead.save(update_fields=["status", "lost_reason", "updated_at"])
    activity_record(
        lead=lead,
        actor=actor,
        kind=ActivityKind.STATUS_CHANGED,
        text=f"{previous} → {status}" + (f": {lead.lost_reason}" if status == LeadStatus.LOST else ""),
        data={"from": previous, "to": status},
    )
    return lead


@transaction.atomic
def lead_assign(*, actor: User, lead: Lead, consultant: User) -> Lead:
    """Managers hand a lead to a consultant of its office; the consultant is notified and, with
    AUTO_CREATE_CONVERSATIONS, gets the lead's conversation (with its history on reassignment)."""
    lead = _locked(lead)
    if not lead_may_assign(actor, lead):
        raise Forbidden("Only managers assign leads.")
    if actor.role != Role.SUPER_ADMIN and consultant.office_id != actor.office_id:
        # someone the actor may not see is as unknown as someone who does not exist
        raise ValidationFailed("Unknown consultant.", code=LeadErrorCode.UNKNOWN_CONSULTANT)
    if consultant.role != Role.CONSULTANT or not consultant.is_active:
        raise ValidationFailed("Leads are assigned to active consultants.", code=LeadErrorCode.NOT_A_CONSULTANT)
    office_id = lead.office_id or (actor.office_id if actor.role == Role.MANAGER else consultant.office_id)
    if consultant.office_id != office_id:
        raise ValidationFailed("The consultant works in another office.", code=LeadErrorCode.CONSULTANT_OTHER_OFFICE)
    if lead.status not in OPEN_STATUSES:
        raise ValidationFailed(f"A {lead.status} lead cannot be reassigned.", code=LeadErrorCode.INVALID_TRANSITION)
    return _assign(lead=lead, consultant=consultant, office_id=office_id, actor=actor)


def _assign(
    *, lead: Lead, consultant: User, office_id, actor: User, why: str = "", routing: dict | None = None
) -> Lead:
    """The assignment itself (the lead row locked by the caller): timeline, the consultant's notice, and
    with AUTO_CREATE_CONVERSATIONS the lead's conversation handed over or opened."""
    previous = lead.assigned_to
    if previous is not None and previous.pk == consultant.pk:
        return lead
    lead.assigned_to, lead.office_id = consultant, office_id
    lead.save(update_fields=["assigned_to", "office", "updated_at"])
    activity_record(
        lead=lead,
        actor=actor,
        kind=ActivityKind.ASSIGNED,
        text=f"Assigned to {consultant.full_name}" + (f" ({why})" if why else ""),
        data={
            "consultant_id": consultant.pk,
            "previous_id": previous.pk if previous else None,
            **({"routing": routing} if routing is not None else {}),
        },
    )
    notification_create(
        recipient=consultant, kind="lead_assigned", title=f"New lead: {lead.full_name}", data={"lead_id": lead.pk}
    )
    if settings.AUTO_CREATE_CONVERSATIONS and lead.linked_student is not None:
        _lead_conversation_to(lead=lead, previous=previous, consultant=consultant, actor=actor)
    return lead


def lead_route(*, lead: Lead, actor: User) -> Lead:
    """A new lead without a consultant goes to the one its office's routing rules choose (leads.routing),
    inside the creating transaction. The timeline names the rule that chose, or says why nobody did."""
    choice = route_choose(lead=lead)
    if choice is None:
        return lead
    routing = {"rule_id": choice.rule_id, "skipped": choice.skipped}
    if choice.consultant is None:
        activity_record(
            lead=lead,
            actor=actor,
            kind=ActivityKind.ASSIGNED,
            text=f"Not routed: {choice.reason}",
            data={"routing": routing},
        )
        return lead
    return _assign(
        lead=lead,
        consultant=choice.consultant,
        office_id=lead.office_id,
        actor=actor,
        why=choice.reason,
        routing=routing,
    )


@transaction.atomic
def lead_assign_for_booking(*, actor: User, lead: Lead, consultant: User) -> Lead:
    """A lead nobody has yet, booked with a consultant of its office (a receptionist's walk-in), becomes that
    consultant's, as `lead_assign` would make it. The booking service decided who may book; a lead that
    has a consultant by the time the row is locked, or is closed, is left alone."""
    lead = _locked(lead)
    if lead.assigned_to_id is not None or lead.status not in OPEN_STATUSES:
        return lead
    if consultant.role != Role.CONSULTANT or not consultant.is_active:
        return lead
    if lead.office_id is not None and consultant.office_id != lead.office_id:
        return lead
    return _assign(
        lead=lead, consultant=consultant, office_id=consultant.office_id, actor=actor, why="booked with them"
    )


def _lead_conversation_to(*, lead: Lead, previous: User | None, consultant: User, actor: User) -> None:
    student = lead.linked_student
    if student is None:  # (the caller checked: the lead reaches an account)
        return
    if previous is not None:
        existing = (
            Conversation.objects.filter(lead=lead, participants__user=previous)
            .filter(participants__user=student)
            .first()
        )
        if existing is not None:
            participant_replace(conversation=existing, old_user=previous, new_user=consultant, actor=actor)
            return
    conversation_ensure_direct(user_a=student, user_b=consultant, actor=actor, office=lead.office, lead=lead)


@transaction.atomic
def lead_convert(*, actor: User, lead: Lead) -> Lead:
    """The lead becomes a student: their existing account (same email) or a new one in the lead's office."""
    lead = _locked(lead)
    if not _can_manage(actor, lead):
        raise Forbidden("You cannot convert this lead.")
    if lead.status not in OPEN_STATUSES:
        raise ValidationFailed(f"A {lead.status} lead cannot be converted.", code=LeadErrorCode.INVALID_TRANSITION)
    if lead.office_id is None:
        raise ValidationFailed("Assign the lead to an office first.", code=LeadErrorCode.OFFICE_REQUIRED)
    created = False
    student = lead.linked_student
    if student is None:  # no account, or one the link does not reach (another office's)
        if not lead.email:
            raise ValidationFailed("The lead needs an email to get an account.", code=LeadErrorCode.EMAIL_REQUIRED)
        account = user_with_email(lead.email).first()
        if account is not None and not (
            account.role == Role.STUDENT
            and student_link_counts(student_office_id=account.office_id, lead_office_id=lead.office_id)
        ):
            # Staff, or another office's student: the email cannot get a second account, and this office
            # may not take over that one. The same answer for both (which kind it is stays unsaid).
            raise Conflict("This email belongs to another account.", code=LeadErrorCode.EMAIL_TAKEN)
        if account is None:
            email_check_new(lead.email)  # an account's address: ASCII before the @ (accounts/emails.py)
            account = User.objects.create_user(
                lead.email,
                None,
                first_name=lead.first_name,
                last_name=lead.last_name,
                phone=lead.phone,
                role=Role.STUDENT,
                office=lead.office,
            )
            created = True
        student = account
    lead.student = student
    student_office_claim(actor=actor, student=student, office=lead.office)  # (when no office had them yet)
    previous, lead.status, lead.converted_at = lead.status, LeadStatus.CONVERTED, timezone.now()
    lead.save(update_fields=["student", "status", "converted_at", "updated_at"])
    if settings.AUTO_CREATE_CONVERSATIONS and lead.assigned_to is not None:
        # Assigned before it had an account: the lead–consultant conversation opens now.
        conversation_ensure_direct(user_a=student, user_b=lead.assigned_to, actor=actor, office=lead.office, lead=lead)
    activity_record(
        lead=lead,
        actor=actor,
        kind=ActivityKind.CONVERTED,
        text="Converted to a student" + (" (new account)" if created else " (existing account linked)"),
        data={"from": previous, "student_id": student.pk, "account_created": created},
    )
    # The student's profile takes the lead's preferences (onboarding.receivers): in this transaction.
    lead_converted.send(sender=Lead, lead=lead, student=student, actor=actor)
    return lead


@transaction.atomic
def lead_escalate(*, actor: User, lead: Lead, note: str = ""):
    """Opens (or reuses) the conversation between the office's manager and the lead."""
    if not _can_manage(actor, lead):
        raise Forbidden("You cannot escalate this lead.")
    student = lead.linked_student
    if student is None:
        raise ValidationFailed("The lead has no account to talk to yet.", code=LeadErrorCode.NO_ACCOUNT)
    manager: User | None
    if actor.role == Role.MANAGER:
        # A manager escalating takes the conversation themself (this also covers website signups
        # still in the unassigned queue, which have no office to look a manager up in).
        manager = actor
    else:
        manager = (
            User.objects.filter(role=Role.MANAGER, office_id=lead.office_id, is_active=True).order_by("id").first()
            if lead.office_id is not None
            else None  # an unassigned website signup: no office, no manager to look up
        )
    if manager is None:
        raise ValidationFailed("This office has no manager.", code=LeadErrorCode.NO_MANAGER)
    conversation = conversation_ensure_direct(
        user_a=manager, user_b=student, actor=actor, office=lead.office, lead=lead
    )
    activity_record(
        lead=lead,
        actor=actor,
        kind=ActivityKind.ESCALATED,
        text=note.strip() or f"Escalated to {manager.full_name}",
        data={"manager_id": manager.pk, "conversation_id": conversation.pk},
    )
    return conversation


@transaction.atomic
def lead_add_note(*, actor: User, lead: Lead, text: str) -> Activity:
    if not _can_see(actor, lead):
        raise NotFound("Lead not found.")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("A note needs text.", code=LeadErrorCode.EMPTY_NOTE)
    return activity_record(lead=lead, actor=actor, kind=ActivityKind.NOTE, text=text[:5000])


@transaction.atomic
def lead_delete(*, actor: User, lead: Lead) -> None:
    if not lead_may_assign(actor, lead):
        raise Forbidden("Only managers delete leads.")
    lead.delete()


# --- CSV import ------------------------------------------------------------------------

IMPORT_COLUMNS = ("first_name", "last_name", "email", "phone", "source")
IMPORT_MAX_ROWS = 10_000


def leads_import_csv(*, actor: User, data: bytes, office=None) -> dict:
    """Row by row: bad rows are reported with their errors, good rows created; a lead already known
    (same email or phone in the office) is skipped, so importing the same file twice adds nothing."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("The file must be UTF-8 CSV.", code=LeadErrorCode.INVALID_CSV) from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "first_name" not in reader.fieldnames:
        raise ValidationFailed(
            "The first line must name the columns, starting with first_name.",
            code=LeadErrorCode.INVALID_CSV,
            details={"columns": list(IMPORT_COLUMNS)},
        )
    report: dict[str, Any] = {"created": 0, "skipped": 0, "errors": []}
    # Rows are numbered by the file line they start on (a quoted cell may span lines), as an editor shows them.
    next_line = reader.line_num + 1
    for count, row in enumerate(reader, start=1):
        number, next_line = next_line, reader.line_num + 1
        if count > IMPORT_MAX_ROWS:
            report["errors"].append({"row": number, "errors": [f"Only {IMPORT_MAX_ROWS} rows per file."]})
            break
        errors = ["more cells than columns"] if row.get(None) else []
        row = {k: (row.get(k) or "").strip() for k in IMPORT_COLUMNS}
        if not row["first_name"]:
            errors.append("first_name is required")
        try:
            lead_check_contact(email=row["email"], phone=row["phone"])
        except ValidationFailed as exc:
            errors.append(exc.message)
        if row["email"]:
            try:
                validate_email(row["email"])
            except DjangoValidationError:
                errors.append("email is not valid")
        if row["source"] and row["source"] not in LeadSource.values:
            errors.append(f"source must be one of {', '.join(LeadSource.values)}")
        if any(len(row[k]) > 150 for k in ("first_name", "last_name")) or len(row["phone"]) > 32:
            errors.append("a value is too long")
        if errors:
            report["errors"].append({"row": number, "errors": errors})
            continue
        try:
            with transaction.atomic():
                lead_create(
                    actor=actor,
                    first_name=row["first_name"],
                    last_name=row["last_name"],
                    email=row["email"],
                    phone=row["phone"],
                    source=row["source"] or LeadSource.OTHER,
                    office=office,
                )
            report["created"] += 1
        except Conflict:
            report["skipped"] += 1
        except (Forbidden, NotFound):
            raise
        except ValidationFailed as exc:
            report["errors"].append({"row": number, "errors": [exc.message]})
    return report
