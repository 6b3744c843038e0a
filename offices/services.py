from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from accounts.models import Role, User
from core.errors import Conflict, Forbidden
from offices.errors import OfficeErrorCode
from offices.models import Office
from offices.selectors import office_can_change

OFFICE_FIELDS = ("name", "address", "phone", "email", "timezone", "opens_at", "closes_at", "is_active")


def _save(office: Office) -> Office:
    office.full_clean()
    try:
        with transaction.atomic():
            office.save()
    except IntegrityError:
        raise Conflict("An office with this name already exists.", code=OfficeErrorCode.OFFICE_NAME_TAKEN) from None
    return office


def office_create(*, actor: User, **fields) -> Office:
    if actor.role != Role.SUPER_ADMIN:
        raise Forbidden("Only super admins create offices.")
    return _save(Office(**{k: v for k, v in fields.items() if k in OFFICE_FIELDS}))


def office_update(*, actor: User, office: Office, **changes) -> Office:
    if not office_can_change(actor, office):
        raise Forbidden("You cannot change this office.")
    if "is_active" in changes and changes["is_active"] != office.is_active and actor.role != Role.SUPER_ADMIN:
        raise Forbidden("Only super admins open or close offices.")
    for field, value in changes.items():
        if field in OFFICE_FIELDS:
            setattr(office, field, value)
    return _save(office)


@transaction.atomic
def office_delete(*, actor: User, office: Office) -> None:
    if actor.role != Role.SUPER_ADMIN:
        raise Forbidden("Only super admins delete offices.")
    try:
        with transaction.atomic():
            office.delete()
    except ProtectedError:
        raise Conflict(
            "This office still has people or records; deactivate it instead.", code=OfficeErrorCode.OFFICE_IN_USE
        ) from None
