from django.db.models import QuerySet

from accounts.models import Role, User
from appointments.models import Appointment
from core.errors import NotFound


def appointment_list_for(user: User) -> QuerySet[Appointment]:
    """super admin: all; manager and receptionist: their office; consultant: theirs; student: their own."""
    appointments = Appointment.objects.select_related("office", "consultant", "student", "lead")
    if not user.is_active:
        return appointments.none()
    if user.role == Role.SUPER_ADMIN:
        return appointments.all()
    if user.role in (Role.MANAGER, Role.RECEPTIONIST):
        return appointments.filter(office_id=user.office_id)
    if user.role == Role.CONSULTANT:
        return appointments.filter(consultant=user)
    return appointments.filter(student=user)


def appointment_get_for(user: User, appointment_id) -> Appointment:
    try:
        return appointment_list_for(user).get(pk=int(appointment_id))
    except (Appointment.DoesNotExist, TypeError, ValueError):
        raise NotFound("Appointment not found.") from None


def consultants_of_student(student: User) -> QuerySet[User]:
    return User.objects.filter(assigned_leads__student=student, role=Role.CONSULTANT, is_active=True).distinct()
