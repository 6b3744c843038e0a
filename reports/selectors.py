"""Report figures, each computed by a fixed number of SQL aggregates whatever the data size.

Every report takes a `ReportScope`: the date range (inclusive days, in UTC) and the offices the
caller may see (a manager their own; a super admin one or all).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.db.models import Avg, Count, F, Q
from django.db.models.functions import TruncDate

from accounts.models import MANAGING_ROLES, Role, User
from appointments.models import Appointment, AppointmentStatus
from core.dates import EARLIEST_DAY, LATEST_DAY, RANGE_TEXT, day_in_range
from core.errors import CoreErrorCode, Forbidden, ValidationFailed
from leads.models import Lead, LeadSource, LeadStatus
from messaging.models import Message, MessageType
from offices.selectors import office_get_for
from reports.errors import ReportErrorCode


@dataclass(frozen=True)
class ReportScope:
    date_from: date
    date_to: date
    office_id: int | None  # None: every office (super admins only)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=UTC)

    def as_dict(self) -> dict:
        return {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "office_id": self.office_id,
        }


def utc_today() -> date:
    """Reports count UTC days (ReportScope.start and end), whatever zone the host's clock is in."""
    return datetime.now(UTC).date()


def _check_day(name: str, day: date | None) -> None:
    """A month back from date_to and the day after it must stay inside the calendar (year 1 minus a
    month, year 9999 plus a day: an OverflowError, a 500)."""
    if day is not None and not day_in_range(day):
        raise ValidationFailed(
            f"Report dates run from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}.",
            code=CoreErrorCode.INVALID_DATE,
            details={name: [RANGE_TEXT]},
        )


def report_scope_for(user: User, *, date_from: date | None, date_to: date | None, office_id: int | None) -> ReportScope:
    if user.role not in MANAGING_ROLES:
        raise Forbidden("Reports are for managers and super admins.")
    _check_day("date_from", date_from)
    _check_day("date_to", date_to)
    date_to = date_to or utc_today()
    date_from = date_from or max(date_to - timedelta(days=29), EARLIEST_DAY)
    if date_from > date_to:
        raise ValidationFailed("date_from must not be after date_to.", code=ReportErrorCode.INVALID_DATE_RANGE)
    if (date_to - date_from).days > 366:
        raise ValidationFailed("A report covers at most a year.", code=ReportErrorCode.INVALID_DATE_RANGE)
    if office_id is not None:
        office_id = office_get_for(user, office_id).pk  # another office is not found, as everywhere
    elif user.role == Role.MANAGER:
        office_id = user.office_id
    return ReportScope(date_from=date_from, date_to=date_to, office_id=office_id)


def _office(scope: ReportScope, field: str = "office_id") -> Q:
    return Q(**{field: scope.office_id}) if scope.office_id is not None else Q()


def _name(first: str, last: str, email: str) -> str:
    return f"{first} {last}".strip() or email  # as User.full_name


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def leads_report(scope: ReportScope) -> dict:
    """Leads created in the range: funnel by status, conversion, time to convert, sources, lost reasons,
    offices and consultants. Five queries."""
    leads = Lead.objects.filter(_office(scope), created_at__gte=scope.start, created_at__lt=scope.end)
    totals = leads.aggregate(
        total=Count("id"),
        converted=Count("id", filter=Q(status=LeadStatus.CONVERTED)),
        avg_convert=Avg(F("converted_at") - F("created_at"), filter=Q(status=LeadStatus.CONVERTED)),
        **{f"status_{s}": Count("id", filter=Q(status=s)) for s in LeadStatus.values},
    )
    by_source = dict(leads.values_list("source").annotate(n=Count("id")).order_by())
    by_lost = list(
        leads.filter(status=LeadStatus.LOST)
        .values("lost_reason")
        .annotate(count=Count("id"))
        .order_by("-count", "lost_reason")
    )
    by_office = list(
        leads.values("office_id", "office__name").annotate(count=Count("id")).order_by("-count", "office_id")
    )
    by_consultant = list(
        leads.filter(assigned_to__isnull=False)
        .values("assigned_to_id", "assigned_to__email", "assigned_to__first_name", "assigned_to__last_name")
        .annotate(assigned=Count("id"), converted=Count("id", filter=Q(status=LeadStatus.CONVERTED)))
        .order_by("-assigned", "assigned_to_id")
    )
    avg = totals["avg_convert"]
    return {
        "scope": scope.as_dict(),
        "total": totals["total"],
        "funnel": {s: totals[f"status_{s}"] for s in LeadStatus.values},
        "converted": totals["converted"],
        "conversion_rate": _rate(totals["converted"], totals["total"]),
        "average_hours_to_convert": round(avg.total_seconds() / 3600, 2) if avg is not None else None,
        "by_source": {s: by_source.get(s, 0) for s in LeadSource.values},
        "by_lost_reason": [{"reason": row["lost_reason"], "count": row["count"]} for row in by_lost],
        "by_office": [
            {"office_id": r["office_id"], "office": r["office__name"], "count": r["count"]} for r in by_office
        ],
        "by_consultant": [
            {
                "consultant_id": r["assigned_to_id"],
                "consultant": r["assigned_to__email"],
                "consultant_name": _name(
                    r["assigned_to__first_name"], r["assigned_to__last_name"], r["assigned_to__email"]
                ),
                "assigned": r["assigned"],
                "converted": r["converted"],
            }
            for r in by_consultant
        ],
    }


def appointments_report(scope: ReportScope) -> dict:
    """Appointments starting in the range: by status, no-show rate, per day. Two queries."""
    appointments = Appointment.objects.filter(_office(scope), start__gte=scope.start, start__lt=scope.end)
    totals = appointments.aggregate(
        total=Count("id"), **{s: Count("id", filter=Q(status=s)) for s in AppointmentStatus.values}
    )
    per_day = list(
        appointments.annotate(day=TruncDate("start")).values("day").annotate(count=Count("id")).order_by("day")
    )
    attended = totals[AppointmentStatus.COMPLETED] + totals[AppointmentStatus.NO_SHOW]
    return {
        "scope": scope.as_dict(),
        "total": totals["total"],
        "by_status": {s: totals[s] for s in AppointmentStatus.values},
        "no_show_rate": _rate(totals[AppointmentStatus.NO_SHOW], attended),
        "per_day": [{"date": row["day"].isoformat(), "count": row["count"]} for row in per_day],
    }


_FIRST_RESPONSE_SQL = """
WITH asked AS (
    SELECT c.id AS conversation_id, l.assigned_to_id AS consultant_id,
           (SELECT min(m.created_at) FROM messaging_message m
             WHERE m.conversation_id = c.id AND m.sender_id = l.student_id) AS asked_at
    FROM messaging_conversation c
    JOIN leads_lead l ON l.id = c.lead_id
    WHERE l.assigned_to_id IS NOT NULL AND l.student_id IS NOT NULL {office}
), answered AS (
    SELECT a.consultant_id, a.asked_at,
           (SELECT min(m.created_at) FROM messaging_message m
             WHERE m.conversation_id = a.conversation_id AND m.sender_id = a.consultant_id
               AND m.created_at >= a.asked_at) AS answered_at
    FROM asked a
    WHERE a.asked_at >= %s AND a.asked_at < %s
)
SELECT consultant_id, avg(extract(epoch FROM answered_at - asked_at)) / 60.0, count(answered_at)
FROM answered WHERE answered_at IS NOT NULL GROUP BY consultant_id
"""


def consultants_report(scope: ReportScope) -> dict:
    """Per consultant: leads assigned and converted (created in range), and the average minutes from
    a student's first message in the lead conversation to the consultant's first answer. Three queries."""
    consultants = list(
        User.objects.filter(_office(scope), role=Role.CONSULTANT)
        .order_by("email")
        .values("id", "email", "first_name", "last_name")
    )
    counts = {
        row["assigned_to_id"]: row
        for row in Lead.objects.filter(
            _office(scope), created_at__gte=scope.start, created_at__lt=scope.end, assigned_to__isnull=False
        )
        .values("assigned_to_id")
        .annotate(assigned=Count("id"), converted=Count("id", filter=Q(status=LeadStatus.CONVERTED)))
        .order_by()
    }
    office_sql, params = ("AND l.office_id = %s", [scope.office_id]) if scope.office_id is not None else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(_FIRST_RESPONSE_SQL.format(office=office_sql), [*params, scope.start, scope.end])
        response = {consultant_id: (minutes, n) for consultant_id, minutes, n in cursor.fetchall()}
    rows = []
    for consultant in consultants:
        count = counts.get(consultant["id"], {})
        minutes, answered = response.get(consultant["id"], (None, 0))
        rows.append(
            {
                "consultant_id": consultant["id"],
                "consultant": consultant["email"],
                "consultant_name": _name(consultant["first_name"], consultant["last_name"], consultant["email"]),
                "leads_assigned": count.get("assigned", 0),
                "leads_converted": count.get("converted", 0),
                "conversion_rate": _rate(count.get("converted", 0), count.get("assigned", 0)),
                "average_first_response_minutes": round(float(minutes), 2) if minutes is not None else None,
                "conversations_answered": answered,
            }
        )
    return {"scope": scope.as_dict(), "consultants": rows}


# Deleted messages do not count, but those removed when their sender was erased do (removed at the
# erasure's moment): an erasure leaves the aggregate numbers as they were (docs/data-protection.md).
COUNTED_MESSAGES = Q(deleted_at__isnull=True) | Q(deleted_at=F("sender__erased_at"))

_MESSAGES_SQL = """
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) / 60.0, count(*)
FROM (
    SELECT extract(epoch FROM m.created_at - lag(m.created_at) OVER w) AS gap,
           m.sender_id, lag(m.sender_id) OVER w AS previous_sender, m.created_at
    FROM messaging_message m JOIN messaging_conversation c ON c.id = m.conversation_id
    JOIN accounts_user s ON s.id = m.sender_id
    WHERE (m.deleted_at IS NULL OR m.deleted_at = s.erased_at) {office}
    WINDOW w AS (PARTITION BY m.conversation_id ORDER BY m.seq)
) replies
WHERE previous_sender IS NOT NULL AND previous_sender <> sender_id AND created_at >= %s AND created_at < %s
"""


def messages_report(scope: ReportScope) -> dict:
    """Messages per day and per type, and the median minutes before someone answers. Three queries."""
    messages = Message.objects.filter(
        _office(scope, "conversation__office_id"),
        created_at__gte=scope.start,
        created_at__lt=scope.end,
    ).filter(COUNTED_MESSAGES)
    per_day = list(
        messages.annotate(day=TruncDate("created_at")).values("day").annotate(count=Count("id")).order_by("day")
    )
    by_type = dict(messages.values_list("type").annotate(n=Count("id")).order_by())
    office_sql, params = ("AND c.office_id = %s", [scope.office_id]) if scope.office_id is not None else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(_MESSAGES_SQL.format(office=office_sql), [*params, scope.start, scope.end])
        median, replies = cursor.fetchone()
    return {
        "scope": scope.as_dict(),
        "total": sum(row["count"] for row in per_day),
        "per_day": [{"date": row["day"].isoformat(), "count": row["count"]} for row in per_day],
        "by_type": {t: by_type.get(t, 0) for t in MessageType.values},
        "median_response_minutes": round(float(median), 2) if median is not None else None,
        "replies": replies,
    }


_ACTS_SQL = """
    SELECT m.created_at::date AS day, m.sender_id AS user_id
    FROM messaging_message m JOIN accounts_user u ON u.id = m.sender_id
    WHERE m.created_at >= %s AND m.created_at < %s {office}
    UNION ALL
    SELECT a.created_at::date, a.actor_id
    FROM leads_activity a JOIN accounts_user u ON u.id = a.actor_id
    WHERE a.created_at >= %s AND a.created_at < %s {office}
"""


def activity_report(scope: ReportScope) -> dict:
    """Daily active users: people who sent a message or changed a record that day. Two queries."""
    office = "AND u.office_id = %s" if scope.office_id is not None else ""
    params = [scope.start, scope.end] + ([scope.office_id] if office else [])
    acts = _ACTS_SQL.format(office=office)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT day, count(DISTINCT user_id) FROM ({acts}) acts GROUP BY day ORDER BY day", params + params
        )
        daily = cursor.fetchall()
        cursor.execute(f"SELECT count(DISTINCT user_id) FROM ({acts}) acts", params + params)
        distinct = cursor.fetchone()[0]
    return {
        "scope": scope.as_dict(),
        "daily_active_users": [{"date": day.isoformat(), "users": users} for day, users in daily],
        "active_users": distinct,
    }


REPORTS = {
    "leads": leads_report,
    "appointments": appointments_report,
    "consultants": consultants_report,
    "messages": messages_report,
    "activity": activity_report,
}
