"""Which applications a user may see (the 404 rule), the board's columns, in SQL with fixed query counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Count, F, Field, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.lookups import GreaterThan

from accounts.models import Role, User
from applications.models import Application, StatusChange
from applications.transitions import ApplicationStatus
from core.errors import NotFound


def application_list_for(user: User) -> QuerySet[Application]:
    """super admin: all; manager: their office's; consultant: those they handle; student: their own;
    receptionist: none (front desk work is appointments and leads)."""
    applications = Application.objects.select_related(
        "student", "consultant", "course", "course__university"
    ).prefetch_related(
        Prefetch("status_history", queryset=StatusChange.objects.select_related("actor").order_by("created_at", "id"))
    )
    if not user.is_active:
        return applications.none()
    if user.role == Role.SUPER_ADMIN:
        return applications.all()
    if user.role == Role.MANAGER:
        return applications.filter(office=user.office_id)
    if user.role == Role.CONSULTANT:
        return applications.filter(consultant=user)
    if user.role == Role.STUDENT:
        return applications.filter(student=user)
    return applications.none()


def application_get_for(user: User, application_id: object) -> Application:
    try:
        return application_list_for(user).get(pk=int(str(application_id)))
    except (Application.DoesNotExist, TypeError, ValueError):
        raise NotFound("Application not found.") from None


@dataclass(frozen=True)
class ApplicationFilters:
    status: tuple[str, ...] = ()
    student_id: int | None = None
    consultant_id: int | None = None
    office_id: int | None = None
    course_id: int | None = None
    intake: date | None = None
    destination: str | None = None


def applications_filtered(applications: QuerySet[Application], filters: ApplicationFilters) -> QuerySet[Application]:
    conditions = Q()
    if filters.status:
        conditions &= Q(status__in=filters.status)
    for name in ("student_id", "consultant_id", "office_id", "course_id", "intake", "destination"):
        value = getattr(filters, name)
        if value is not None and value != "":
            conditions &= Q(**{name: value})
    return applications.filter(conditions)


def board_counts(applications: QuerySet[Application]) -> dict[str, int]:
    """Applications per status. One query: a GROUP BY status, which for an office reads the (office, status,
    updated_at) index alone (13 FILTERed counts read every row of the office's applications)."""
    counts = dict.fromkeys(ApplicationStatus.values, 0)
    rows = (
        applications.prefetch_related(None).select_related(None).order_by().values_list("status").annotate(n=Count("*"))
    )
    counts.update(rows)
    return counts


# What a card shows and its moves and checklist read, and no more: every column of five tables (passwords,
# search vectors, timestamps parsed for nothing) was most of reading 156 cards. A field missing here is a
# query per card (the board's pinned query count catches it).
# The related rows' few columns come as annotations of the one Application built per card (building a
# student, a consultant, a course and a university per card as well was half of reading the cards).
CARD_FIELDS = ("id", "student_id", "course_id", "consultant_id", "office_id", "status", "intake", "updated_at")
CARD_NAMES = {
    "destination_code": F("destination"),
    "course_name": F("course__name"),
    "course_level": F("course__level"),
    "university_name": F("course__university__name"),
    **{
        f"{who}_{part}": F(f"{who}__{part}")
        for who in ("student", "consultant")
        for part in ("first_name", "last_name", "email")
    },
}


def _full_name(first: str, last: str, email: str) -> str:
    return f"{first} {last}".strip() or email  # (User.full_name)


_STATUS_MARK = "\x00status\x00"  # (a value no status has: where each part's status goes)


def board(applications: QuerySet[Application], *, per_column: int = 12) -> dict[str, list[Application]]:
    """The board's cards per status, the longest untouched first, at most `per_column` each (the column
    header has the full count, and the list the rest). Two queries: the cards' ids, a LIMIT per status each
    read from the index on (office, status, updated_at) and joined by UNION ALL (a window over the office's
    every application cost 30 ms at 5,000), then those cards with what they show. The ids alone keep the
    thirteen-part UNION cheap to build and to plan (with every card's joins in each part it took 60 ms of
    Python and 40 ms of planning at the medium seed)."""
    cards: dict[str, list[Application]] = {status: [] for status in ApplicationStatus.values}
    if applications.query.is_empty():  # nobody's applications (a receptionist's): no SQL to compile
        return cards
    base = applications.prefetch_related(None).select_related(None).order_by("updated_at", "id").values_list("id")
    # One part compiled once, with a marker where the status goes; the thirteen parts are that SQL again
    # (compiling thirteen querysets and their union was ~5 ms of the board's Python).
    sql, params = base.filter(status=_STATUS_MARK)[:per_column].query.sql_with_params()
    at = params.index(_STATUS_MARK)
    union = " UNION ALL ".join([f"({sql})"] * len(ApplicationStatus.values))
    every = [value for status in ApplicationStatus.values for value in (*params[:at], status, *params[at + 1 :])]
    with connection.cursor() as cursor:
        cursor.execute(union, every)
        ids = [row[0] for row in cursor.fetchall()]
    found = Application.objects.filter(pk__in=ids).only(*CARD_FIELDS).annotate(**CARD_NAMES)
    application: Any
    for application in found.order_by("updated_at", "id"):
        a = application
        a.student_name = _full_name(a.student_first_name, a.student_last_name, a.student_email)
        a.consultant_name = _full_name(a.consultant_first_name, a.consultant_last_name, a.consultant_email)
        cards[application.status].append(application)
    return cards


def distinct_values(applications: QuerySet[Application], field: str) -> list:
    """The distinct values of `field` among `applications`, ascending. One query: a loose index scan (a
    recursive CTE that asks the index for the next value above the last, once per value), so its cost is
    the number of values, not of applications (a DISTINCT over an office's 5,000 read them all)."""
    if applications.query.is_empty():
        return []
    base = applications.prefetch_related(None).select_related(None).order_by(field).values_list(field)
    first, first_params = base[:1].query.sql_with_params()
    column = Application._meta.get_field(field)
    assert isinstance(column, Field)
    after: GreaterThan[Any] = GreaterThan(F(field), RawSQL("r.v", (), output_field=column))
    following, following_params = base.filter(after)[:1].query.sql_with_params()
    sql = (
        f"WITH RECURSIVE r(v) AS (({first}) UNION ALL SELECT ({following}) FROM r WHERE r.v IS NOT NULL) "
        "SELECT v FROM r WHERE v IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*first_params, *following_params))
        return [row[0] for row in cursor.fetchall()]


def intakes_of(applications: QuerySet[Application]) -> list[date]:
    """The intakes the board's filter offers. One query, one index probe per intake."""
    return distinct_values(applications, "intake")


def destinations_of(applications: QuerySet[Application]) -> list[str]:
    """The destination countries (codes) the board's filter offers. One query, one index probe per country."""
    return [str(code) for code in distinct_values(applications, "destination")]
