from collections.abc import Iterable
from datetime import date, time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from accounts.models import Role, User
from core.errors import Conflict, Forbidden, ValidationFailed
from offices.errors import OfficeErrorCode
from offices.models import ClosedDay, Office, OpeningHours
from offices.regions import country_for_timezone
from offices.selectors import office_can_change

OFFICE_FIELDS = ("name", "address", "phone", "email", "timezone", "country", "is_active")


def _save(office: Office) -> Office:
    office.full_clean()
    try:
        with transaction.atomic():
            office.save()
    except IntegrityError:
        raise Conflict("An office with this name already exists.", code=OfficeErrorCode.OFFICE_NAME_TAKEN) from None
    return office


def _week(rows: Iterable[dict[str, Any]]) -> list[OpeningHours]:
    """The opening hours as given ({weekday, opens_at, closes_at} per open weekday), checked."""
    week: dict[int, OpeningHours] = {}
    rows = list(rows)
    if not rows:
        raise ValidationFailed(
            "An office opens at least one day a week (deactivate it instead).",
            code=OfficeErrorCode.INVALID_OPENING_HOURS,
        )
    for row in rows:
        weekday, opens, closes = row.get("weekday"), row.get("opens_at"), row.get("closes_at")
        if not isinstance(weekday, int) or not 1 <= weekday <= 7:
            raise ValidationFailed("A weekday is 1 (Monday) to 7 (Sunday).", code=OfficeErrorCode.INVALID_OPENING_HOURS)
        if weekday in week:
            raise ValidationFailed(
                "Each weekday has one opening time.",
                code=OfficeErrorCode.INVALID_OPENING_HOURS,
                details={"weekday": weekday},
            )
        if not (isinstance(opens, time) and isinstance(closes, time) and opens < closes):
            raise ValidationFailed(
                "An office closes after it opens, on the same day.",
                code=OfficeErrorCode.INVALID_OPENING_HOURS,
                details={"weekday": weekday},
            )
        week[weekday] = OpeningHours(weekday=weekday, opens_at=opens, closes_at=closes)
    return [week[day] for day in sorted(week)]


def _closed(rows: Iterable[dict[str, Any]]) -> list[ClosedDay]:
    days: dict[date, ClosedDay] = {}
    for row in rows:
        day = row.get("date")
        if not isinstance(day, date) or day in days:
            raise ValidationFailed(
                "Each closed day is a date, listed once.",
                code=OfficeErrorCode.INVALID_CLOSED_DAYS,
                details={"date": str(day)},
            )
        days[day] = ClosedDay(date=day, reason=str(row.get("reason") or "").strip()[:200])
    return [days[day] for day in sorted(days)]


def _set_hours(office: Office, opening_hours, closed_days) -> None:
    """Replace the office's week and closed days with what is given (None: leave as they are)."""
    if opening_hours is not None:
        week = _week(opening_hours)
        office.opening_hours.all().delete()
        OpeningHours.objects.bulk_create([*_of(office, week)])
    if closed_days is not None:
        days = _closed(closed_days)
        office.closed_days.all().delete()
        ClosedDay.objects.bulk_create([*_of(office, days)])


def _of(office: Office, rows):
    for row in rows:
        row.office = office
        yield row


@transaction.atomic
def office_create(*, actor: User, opening_hours=None, closed_days=None, **fields) -> Office:
    """A new office; without opening hours it opens Monday to Friday, 09:00 to 17:00 (offices.hours),
    and without a country it takes its time zone's."""
    if actor.role != Role.SUPER_ADMIN:
        raise Forbidden("Only super admins create offices.")
    office = Office(**{k: v for k, v in fields.items() if k in OFFICE_FIELDS})
    if "country" not in fields:
        office.country = country_for_timezone(office.timezone)
    office = _save(office)
    _set_hours(office, opening_hours, closed_days)
    return office


@transaction.atomic
def office_update(*, actor: User, office: Office, opening_hours=None, closed_days=None, **changes) -> Office:
    """Settings, and (given) the whole week of opening hours and the whole list of closed days."""
    if not office_can_change(actor, office):
        raise Forbidden("You cannot change this office.")
    if "is_active" in changes and changes["is_active"] != office.is_active and actor.role != Role.SUPER_ADMIN:
        raise Forbidden("Only super admins open or close offices.")
    for field, value in changes.items():
        if field in OFFICE_FIELDS:
            setattr(office, field, value)
    office = _save(office)
    _set_hours(office, opening_hours, closed_days)
    return office


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
