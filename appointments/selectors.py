from datetime import datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import leads_reaching_q
from appointments.models import Appointment, AppointmentStatus
from core.errors import NotFound


def appointment_list_for(user: User) -> QuerySet[Appointment]:
    """super admin: all; manager and receptionist: their office; consultant: theirs; student: their own."""
    appointments = Appointment.objects.select_related("office", "consultant", "student", "lead")
    if not user.is_active:
        return appointments.none()
    if user.role == Role.SUPER_ADMIN:
        return appointments.all()
    if user.role in (Role.MANAGER, Role.RECEPTIONIST):
        return appointments.filter(office=user.office_id)
    if user.role == Role.CONSULTANT:
        return appointments.filter(consultant=user)
    return appointments.filter(student=user)


def appointment_get_for(user: User, appointment_id) -> Appointment:
    try:
        return appointment_list_for(user).get(pk=int(appointment_id))
    except (Appointment.DoesNotExist, TypeError, ValueError):
        raise NotFound("Appointment not found.") from None


def consultants_of_student(student: User) -> QuerySet[User]:
    """The active consultants of leads that reach this student (never through another office's lead)."""
    return User.objects.filter(
        leads_reaching_q(student, "assigned_leads__"), role=Role.CONSULTANT, is_active=True
    ).distinct()


def calendar_consultants_for(user: User) -> QuerySet[User]:
    """Active consultants whose calendar and free slots `user` may see, by name: super admin: all;
    manager and receptionist: their office's; consultant: themself; student: their own consultants."""
    consultants = User.objects.select_related("office").filter(role=Role.CONSULTANT, is_active=True)
    if not user.is_active:
        consultants = consultants.none()
    elif user.role in (Role.MANAGER, Role.RECEPTIONIST):
        consultants = consultants.filter(office=user.office_id)
    elif user.role == Role.CONSULTANT:
        consultants = consultants.filter(pk=user.pk)
    elif user.role == Role.STUDENT:
        consultants = consultants.filter(pk__in=consultants_of_student(user).values("pk"))
    return consultants.order_by("first_name", "last_name", "id")


def calendar_consultant_get_for(user: User, consultant_id) -> User:
    try:
        return calendar_consultants_for(user).get(pk=int(consultant_id))
    except (User.DoesNotExist, TypeError, ValueError):
        raise NotFound("Consultant not found.") from None


def local_day_start(office, day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=office.tzinfo)


def office_today(office):
    return timezone.now().astimezone(office.tzinfo).date()


def appointment_agenda_for(user: User, *, offices, days: int = 1) -> QuerySet[Appointment]:
    """Appointments (not cancelled) from the start of today for `days` days, each office's days in
    its own time zone, within what `user` may see. One query."""
    window = Q()
    for office in offices:
        today = office_today(office)
        window |= Q(
            office_id=office.pk,
            start__gte=local_day_start(office, today),
            start__lt=local_day_start(office, today + timedelta(days=days)),
        )
    if not window:
        return Appointment.objects.none()
    return (
        appointment_list_for(user)
        .filter(window)
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("lead__student")
        .order_by("start", "id")
    )


def appointments_between_for(
    user: User, *, start: datetime, end: datetime, office_id: int, consultant_id: int | None = None
) -> QuerySet[Appointment]:
    """A calendar's appointments (not cancelled) overlapping [start, end) in one office."""
    appointments = (
        appointment_list_for(user)
        .filter(office_id=office_id, start__lt=end, end__gt=start)
        .exclude(status=AppointmentStatus.CANCELLED)
    )
    if consultant_id is not None:
        appointments = appointments.filter(consultant_id=consultant_id)
    return appointments.order_by("start", "id")
