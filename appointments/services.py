"""Booking, rescheduling and cancelling. The database refuses double bookings; these services
turn that refusal into a 409 and tell the people involved."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from appointments.errors import AppointmentErrorCode
from appointments.models import Appointment, AppointmentStatus
from appointments.selectors import consultants_of_student
from core.errors import Conflict, Forbidden, ValidationFailed
from leads.models import ActivityKind, Lead
from leads.services import activity_record, lead_assign_for_booking
from notifications.services import notifications_create
from offices.hours import OfficeHours
from offices.models import Office

STAFF_BOOKERS = (Role.SUPER_ADMIN, Role.MANAGER, Role.RECEPTIONIST, Role.CONSULTANT)


def _check_times(start: datetime, end: datetime) -> None:
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValidationFailed("Times need a UTC offset (ISO 8601).", code=AppointmentErrorCode.NAIVE_DATETIME)
    if end <= start:
        raise ValidationFailed("The end must be after the start.", code=AppointmentErrorCode.INVALID_TIME_RANGE)
    if start < timezone.now():
        raise ValidationFailed("Appointments cannot start in the past.", code=AppointmentErrorCode.START_IN_PAST)
    if end - start > timedelta(hours=12):
        raise ValidationFailed("An appointment lasts at most 12 hours.", code=AppointmentErrorCode.INVALID_TIME_RANGE)


def _check_opening_hours(*, actor: User, office: Office, start: datetime, end: datetime, allow: bool) -> None:
    """Within the office's opening hours, or 409 `outside_opening_hours`: a student may not book then;
    staff are warned and may book anyway (`allow`: an evening call, a visitor from another time zone)."""
    hours = OfficeHours.of(office)
    if hours.covers(start, end):
        return
    staff = actor.role in STAFF_BOOKERS
    if staff and allow:
        return
    day = start.astimezone(office.tzinfo).date()
    raise Conflict(
        f"{office.name} is not open then ({day:%A %-d %B}: {hours.describe(day)})."
        + (" Book anyway to confirm." if staff else " Pick a time within the opening hours."),
        code=AppointmentErrorCode.OUTSIDE_OPENING_HOURS,
        details={"date": day.isoformat(), "opening_hours": hours.describe(day), "may_override": staff},
    )


def _may_change(actor: User, appointment: Appointment) -> bool:
    if actor.role == Role.SUPER_ADMIN:
        return True
    if actor.role in (Role.MANAGER, Role.RECEPTIONIST):
        return actor.office_id == appointment.office_id
    if actor.role == Role.CONSULTANT:
        return appointment.consultant_id == actor.pk
    return False


def _save(appointment: Appointment) -> Appointment:
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:
        if "appointment_no_double_booking" in str(exc):
            raise Conflict(
                "The consultant already has an appointment at that time.", code=AppointmentErrorCode.SLOT_TAKEN
            ) from None
        raise
    return appointment


def _timeline(appointment: Appointment, actor: User, text: str, data: dict | None = None) -> None:
    activity_record(
        lead=appointment.lead,
        student=None if appointment.lead_id else appointment.student,
        actor=actor,
        kind=ActivityKind.APPOINTMENT,
        text=text,
        data={"appointment_id": appointment.pk, **(data or {})},
    )


def _notify(appointment: Appointment, actor: User, kind: str, title: str) -> None:
    people = [appointment.consultant, appointment.student]
    lead = appointment.lead  # (None without a query when the appointment has no lead)
    lead_student = lead.linked_student if lead is not None else None
    if lead_student is not None and lead_student.pk != appointment.student_id:
        people.append(lead_student)
    recipients = {p.pk: p for p in people if p is not None and p.pk != actor.pk}
    if recipients:
        notifications_create(
            recipients=list(recipients.values()),
            kind=kind,
            title=title,
            body=f"{appointment.title}, {appointment.start.astimezone(appointment.office.tzinfo):%a %d %b %H:%M}",
            data={"appointment_id": appointment.pk},
        )


@transaction.atomic
def appointment_book(
    *,
    actor: User,
    consultant: User | None,
    start: datetime,
    end: datetime,
    title: str,
    student: User | None = None,
    lead: Lead | None = None,
    notes: str = "",
    allow_outside_hours: bool = False,
) -> Appointment:
    """Book `consultant` for a student or a lead. A lead without a consultant (a walk-in) becomes the
    booked consultant's lead, through the lead assignment service (their conversation follows)."""
    if consultant is None or consultant.role != Role.CONSULTANT or not consultant.is_active:
        raise ValidationFailed("Unknown consultant.", code=AppointmentErrorCode.UNKNOWN_CONSULTANT)
    if actor.role == Role.STUDENT:
        if student is not None and student.pk != actor.pk:
            raise Forbidden("Students book for themselves.")
        student = actor
        if not consultants_of_student(actor).filter(pk=consultant.pk).exists():
            raise ValidationFailed(
                "Unknown consultant.", code=AppointmentErrorCode.UNKNOWN_CONSULTANT
            )  # others are not theirs to see
    elif actor.role not in STAFF_BOOKERS:
        raise Forbidden("You cannot book appointments.")
    elif actor.role == Role.CONSULTANT and consultant.pk != actor.pk:
        raise Forbidden("Consultants book their own appointments.")
    elif actor.role != Role.SUPER_ADMIN and consultant.office_id != actor.office_id:
        raise ValidationFailed(
            "Unknown consultant.", code=AppointmentErrorCode.UNKNOWN_CONSULTANT
        )  # another office's: not theirs to see
    if student is not None and (student.role != Role.STUDENT or not student.is_active):
        raise ValidationFailed("Unknown student.", code=AppointmentErrorCode.UNKNOWN_STUDENT)
    if lead is not None and lead.office_id not in (None, consultant.office_id):
        raise ValidationFailed("The lead belongs to another office.", code=AppointmentErrorCode.UNKNOWN_LEAD)
    if student is None and lead is None:
        raise ValidationFailed("Book for a student or a lead.", code=AppointmentErrorCode.ATTENDEE_REQUIRED)
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("An appointment needs a title.", code=AppointmentErrorCode.TITLE_REQUIRED)
    _check_times(start, end)
    office = consultant.office
    if office is None:  # (a consultant always has one; the appointment needs it)
        raise ValidationFailed("Unknown consultant.", code=AppointmentErrorCode.UNKNOWN_CONSULTANT)
    _check_opening_hours(actor=actor, office=office, start=start, end=end, allow=allow_outside_hours)
    appointment = _save(
        Appointment(
            consultant=consultant,
            student=student,
            lead=lead,
            office=office,
            title=title[:200],
            start=start,
            end=end,
            notes=notes,
            created_by=actor,
        )
    )
    _timeline(
        appointment,
        actor,
        f"Appointment booked: {appointment.title}",
        {"start": start.isoformat(), "end": end.isoformat()},
    )
    if lead is not None and lead.assigned_to_id is None:
        lead_assign_for_booking(actor=actor, lead=lead, consultant=consultant)
    _notify(appointment, actor, "appointment_booked", "Appointment booked")
    return appointment


def _locked(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_for_update().get(pk=appointment.pk)


@transaction.atomic
def appointment_reschedule(
    *,
    actor: User,
    appointment: Appointment,
    start: datetime,
    end: datetime,
    reason: str = "",
    allow_outside_hours: bool = False,
) -> Appointment:
    appointment = _locked(appointment)
    if not _may_change(actor, appointment):
        raise Forbidden("You cannot reschedule this appointment.")
    if appointment.status != AppointmentStatus.SCHEDULED:
        raise ValidationFailed(
            f"A {appointment.status} appointment cannot be rescheduled.", code=AppointmentErrorCode.NOT_SCHEDULED
        )
    _check_times(start, end)
    _check_opening_hours(actor=actor, office=appointment.office, start=start, end=end, allow=allow_outside_hours)
    before = (appointment.start, appointment.end)
    appointment.start, appointment.end, appointment.reminder_sent_at = start, end, None
    _save(appointment)
    _timeline(
        appointment,
        actor,
        "Appointment rescheduled" + (f": {reason}" if reason else ""),
        {"from": [t.isoformat() for t in before], "to": [start.isoformat(), end.isoformat()], "reason": reason},
    )
    _notify(appointment, actor, "appointment_rescheduled", "Appointment rescheduled")
    return appointment


@transaction.atomic
def appointment_cancel(*, actor: User, appointment: Appointment, reason: str = "") -> Appointment:
    appointment = _locked(appointment)
    own_student = actor.role == Role.STUDENT and appointment.student_id == actor.pk
    if not (own_student or _may_change(actor, appointment)):
        raise Forbidden("You cannot cancel this appointment.")
    if appointment.status != AppointmentStatus.SCHEDULED:
        raise ValidationFailed(
            f"A {appointment.status} appointment cannot be cancelled.", code=AppointmentErrorCode.NOT_SCHEDULED
        )
    appointment.status, appointment.cancellation_reason = AppointmentStatus.CANCELLED, (reason or "").strip()[:255]
    appointment.save(update_fields=["status", "cancellation_reason", "updated_at"])
    _timeline(
        appointment,
        actor,
        "Appointment cancelled" + (f": {appointment.cancellation_reason}" if appointment.cancellation_reason else ""),
    )
    _notify(appointment, actor, "appointment_cancelled", "Appointment cancelled")
    return appointment


@transaction.atomic
def appointment_set_outcome(*, actor: User, appointment: Appointment, status: str) -> Appointment:
    """completed / no_show, once the appointment has started."""
    appointment = _locked(appointment)
    if not _may_change(actor, appointment):
        raise Forbidden("You cannot record the outcome of this appointment.")
    if status not in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
        raise ValidationFailed("status must be completed or no_show.", code=AppointmentErrorCode.INVALID_STATUS)
    if appointment.status != AppointmentStatus.SCHEDULED:
        raise ValidationFailed(
            f"A {appointment.status} appointment already has an outcome.", code=AppointmentErrorCode.NOT_SCHEDULED
        )
    if appointment.start > timezone.now():
        raise ValidationFailed("The appointment has not started yet.", code=AppointmentErrorCode.NOT_STARTED)
    appointment.status = status
    appointment.save(update_fields=["status", "updated_at"])
    _timeline(appointment, actor, f"Appointment {appointment.get_status_display().lower()}")
    return appointment


def _free_slots(opens: datetime, closes: datetime, busy: list[tuple[datetime, datetime]]) -> list[dict]:
    step, now, slots = timedelta(minutes=settings.APPOINTMENT_SLOT_MINUTES), timezone.now(), []
    cursor = opens
    while cursor + step <= closes:
        end = cursor + step
        if cursor >= now and not any(s < end and e > cursor for s, e in busy):
            slots.append({"start": cursor.isoformat(), "end": end.isoformat()})
        cursor = end
    return slots


def free_slots(*, consultants: list[User], first: date, last: date) -> list[dict]:
    """Free APPOINTMENT_SLOT_MINUTES slots of each consultant from `first` to `last` (their offices'
    days, inclusive) within each office's opening hours, skipping the past and booked time:
    [{consultant_id, start, end}], by consultant then time. One query for the bookings, two per office
    for its hours."""
    offices = {c.office_id: c.office for c in consultants if c.office is not None}
    hours = {office_id: OfficeHours.of(office) for office_id, office in offices.items()}
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    windows = {
        office_id: [opening for day in days if (opening := office_hours.on(day)) is not None]
        for office_id, office_hours in hours.items()
    }
    # Every office's days lie within 14 hours of UTC's: one query for the bookings, whatever is open.
    since = datetime.combine(first, time.min, tzinfo=UTC) - timedelta(hours=14)
    until = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC) + timedelta(hours=14)
    busy: dict[int, list[tuple[datetime, datetime]]] = {c.pk: [] for c in consultants}
    for consultant_id, start, end in Appointment.objects.filter(
        consultant__in=consultants, status=AppointmentStatus.SCHEDULED, start__lt=until, end__gt=since
    ).values_list("consultant_id", "start", "end"):
        busy[consultant_id].append((start, end))
    slots: list[dict] = []
    for consultant in consultants:
        for opens, closes in windows.get(consultant.office_id, []):
            slots.extend(
                {"consultant_id": consultant.pk, **slot} for slot in _free_slots(opens, closes, busy[consultant.pk])
            )
    return slots


def availability(*, consultant: User, day: date) -> list[dict]:
    """Free slots of one consultant on one day of their office (`free_slots`), as {start, end}."""
    return [
        {"start": slot["start"], "end": slot["end"]}
        for slot in free_slots(consultants=[consultant], first=day, last=day)
    ]


def reminders_send(*, now: datetime | None = None) -> int:
    """Notify consultant and student once, APPOINTMENT_REMINDER_MINUTES ahead. Overlapping runs
    skip rows another run holds, and the marker makes a second reminder impossible."""
    now = now or timezone.now()
    horizon = now + timedelta(minutes=settings.APPOINTMENT_REMINDER_MINUTES)
    sent = 0
    with transaction.atomic():
        due = list(
            Appointment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=AppointmentStatus.SCHEDULED, reminder_sent_at__isnull=True, start__gt=now, start__lte=horizon
            )
            .select_related("office", "consultant", "student", "lead__student")
        )
        Appointment.objects.filter(pk__in=[a.pk for a in due]).update(reminder_sent_at=now)
        for appointment in due:
            people = {
                p.pk: p
                for p in (
                    appointment.consultant,
                    appointment.student,
                    appointment.lead.linked_student if appointment.lead is not None else None,
                )
                if p
            }
            notifications_create(
                recipients=list(people.values()),
                kind="appointment_reminder",
                title=f"Reminder: {appointment.title}",
                body=f"{appointment.start.astimezone(appointment.office.tzinfo):%a %d %b %H:%M}",
                data={"appointment_id": appointment.pk},
            )
            sent += 1
    return sent
