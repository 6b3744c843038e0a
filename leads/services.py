"""Writes on leads. Every change lands on the lead's timeline here, never in a view."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.emails import canonical_email
from accounts.models import Role, User
from accounts.selectors import student_link_counts, user_with_email
from accounts.services import student_create_for_lead, student_office_claim
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.phones import InvalidPhone, phone_normalize, phone_normalize_or_keep
from leads.duplicates import duplicates_check
from leads.errors import LeadErrorCode
from leads.models import OPEN_STATUSES, Activity, ActivityKind, Lead, LeadSource, LeadStatus
from leads.routing import route_choose
from leads.rules import LEAD_CREATORS, lead_may_assign, lead_may_manage, lead_may_see
from leads.signals import lead_converted
from messaging.models import Conversation
from messaging.services import conversation_ensure_direct, participant_replace
from notifications.services import notification_create
from study.serializers import preferences_clean

EDITABLE_FIELDS = ("first_name", "last_name", "email", "phone", "source", "preferences")


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
    duplicates_check(
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
    duplicates_check(
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
    if not lead_may_manage(actor, lead):
        raise Forbidden("You cannot change this lead.")
    changes = {k: v for k, v in changes.items() if k in EDITABLE_FIELDS}
    if "email" in changes:
        changes["email"] = canonical_email(changes["email"])
    if "preferences" in changes:
        changes["preferences"] = preferences_clean(changes["preferences"])
    if "phone" in changes:
        changes["phone"] = _phone(changes["phone"], lead.office)
    lead_check_contact(email=changes.get("email", lead.email), phone=changes.get("phone", lead.phone))
    duplicates_check(
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
    if not lead_may_manage(actor, lead):
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
    if not lead_may_manage(actor, lead):
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
            account = student_create_for_lead(
                email=lead.email,
                first_name=lead.first_name,
                last_name=lead.last_name,
                phone=lead.phone,
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
def lead_add_note(*, actor: User, lead: Lead, text: str) -> Activity:
    if not lead_may_see(actor, lead):
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
