"""Which offices a user may see: super admins all, everyone else their own."""

from django.db.models import QuerySet

from accounts.models import Role, User
from core.errors import NotFound
from offices.models import Office

# What reading many offices' hours prefetches (two queries for any number of offices).
WITH_HOURS = ("opening_hours", "closed_days")


def office_list_for(user: User) -> QuerySet[Office]:
    offices = Office.objects.all()
    if not user.is_active:
        return offices.none()
    if user.role == Role.SUPER_ADMIN:
        return offices.all()
    if user.office_id is None:  # a student without an office
        return offices.none()
    return offices.filter(pk=user.office_id)


def office_get_for(user: User, office_id) -> Office:
    try:
        return office_list_for(user).get(pk=int(office_id))
    except (Office.DoesNotExist, TypeError, ValueError):
        raise NotFound("Office not found.") from None


def office_can_change(user: User, office: Office) -> bool:
    return user.role == Role.SUPER_ADMIN or (user.role == Role.MANAGER and user.office_id == office.pk)
