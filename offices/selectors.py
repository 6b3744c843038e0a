"""Which offices a user may see: super admins all, everyone else their own."""

from django.db.models import QuerySet

from accounts.models import Role, User
from core.errors import NotFound
from offices.models import Office


def office_list_for(user: User) -> QuerySet[Office]:
    if not user.is_active:
        return Office.objects.none()
    if user.role == Role.SUPER_ADMIN:
        return Office.objects.all()
    if user.office_id is None:  # a student without an office
        return Office.objects.none()
    return Office.objects.filter(pk=user.office_id)


def office_get_for(user: User, office_id) -> Office:
    try:
        return office_list_for(user).get(pk=int(office_id))
    except (Office.DoesNotExist, TypeError, ValueError):
        raise NotFound("Office not found.") from None


def office_can_change(user: User, office: Office) -> bool:
    return user.role == Role.SUPER_ADMIN or (user.role == Role.MANAGER and user.office_id == office.pk)
