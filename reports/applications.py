"""`reports/applications`: the funnel, offer and visa success rates, the median days between statuses and
the expected commission per intake, for the applications in scope. A fixed number of SQL aggregates.

Every count is of applications, each counted once in its part: the breakdowns by office, consultant,
destination and intake each add up to the total, and the report of a part (`?consultant=`) is that
part's row. The expected commission weighs each open application by how often applications in its
status go on to enrolment, learnt company-wide from closed applications (the same weights whatever the
filters, so the parts add up); with too few of them, a default the docs give (docs/applications.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum

from accounts.models import MANAGING_ROLES, Role, User
from accounts.selectors import user_get_for
from applications.models import Application, StatusChange
from applications.transitions import FINAL, OFFERS, PATH, ApplicationStatus
from catalogue.models import Partnership
from core.errors import Forbidden, NotFound, ValidationFailed
from offices.selectors import office_get_for
from reports.errors import ReportErrorCode
from study.vocabulary import format_intake

S = ApplicationStatus
STATUSES = S.values
# How often an application in each status ends enrolled, when history is too thin to tell (MIN_SAMPLE).
DEFAULT_WEIGHTS = {
    S.DRAFT: Decimal("0.10"),
    S.SUBMITTED: Decimal("0.20"),
    S.CONDITIONAL_OFFER: Decimal("0.35"),
    S.UNCONDITIONAL_OFFER: Decimal("0.50"),
    S.OFFER_ACCEPTED: Decimal("0.60"),
    S.DEPOSIT_PAID: Decimal("0.75"),
    S.CONFIRMATION_ISSUED: Decimal("0.85"),
    S.VISA_APPLIED: Decimal("0.88"),
    S.VISA_GRANTED: Decimal("0.97"),
}
MIN_SAMPLE = 20
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ApplicationReportScope:
    office_id: int | None
    consultant_id: int | None = None
    country: str | None = None
    intake: date | None = None
    date_from: date | None = None  # applications opened in [date_from, date_to]
    date_to: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "office_id": self.office_id,
            "consultant_id": self.consultant_id,
            "country": self.country,
            "intake": format_intake(self.intake),
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
        }


def application_report_scope_for(
    user: User,
    *,
    office_id: int | None = None,
    consultant_id: int | None = None,
    country: str | None = None,
    intake: date | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> ApplicationReportScope:
    """Managers and super admins (403 for others); another office, or a consultant one may not see, is 404."""
    if user.role not in MANAGING_ROLES:
        raise Forbidden("Reports are for managers and super admins.")
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed("date_from must not be after date_to.", code=ReportErrorCode.INVALID_DATE_RANGE)
    if office_id is not None:
        office_id = office_get_for(user, office_id).pk
    elif user.role == Role.MANAGER:
        office_id = user.office_id
    if consultant_id is not None:
        consultant = user_get_for(user, consultant_id)
        if consultant.role != Role.CONSULTANT:
            raise NotFound("Consultant not found.")
    return ApplicationReportScope(office_id, consultant_id, country, intake, date_from, date_to)


def _applications(scope: ApplicationReportScope) -> QuerySet[Application]:
    conditions = Q()
    if scope.office_id is not None:
        conditions &= Q(office_id=scope.office_id)
    if scope.consultant_id is not None:
        conditions &= Q(consultant_id=scope.consultant_id)
    if scope.country:
        conditions &= Q(destination=scope.country)
    if scope.intake is not None:
        conditions &= Q(intake=scope.intake)
    if scope.date_from is not None:
        conditions &= Q(created_at__date__gte=scope.date_from)
    if scope.date_to is not None:
        conditions &= Q(created_at__date__lte=scope.date_to)
    return Application.objects.filter(conditions)


def _per_status() -> dict[str, Count]:
    return {status: Count("id", filter=Q(status=status)) for status in STATUSES}


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _breakdown(applications: QuerySet[Application], key: str, label: str | None, name: str) -> list[dict[str, Any]]:
    fields = [key, *([label] if label else [])]
    rows = applications.values(*fields).annotate(total=Count("id"), **_per_status()).order_by("-total", key)
    return [{name: row[key], "label": str(row[label] if label else row[key]), **{
        k: row[k] for k in ("total", *STATUSES)}} for row in rows]  # fmt: skip


_MEDIAN_SQL = """
SELECT from_status, to_status, percentile_cont(0.5) WITHIN GROUP (ORDER BY days), count(*)
FROM (
    SELECT c.from_status, c.to_status,
           extract(epoch FROM c.created_at - lag(c.created_at) OVER (PARTITION BY c.application_id
                                                                     ORDER BY c.created_at, c.id)) / 86400.0 AS days
    FROM applications_statuschange c WHERE c.application_id IN ({applications})
) moves
WHERE from_status <> '' AND days IS NOT NULL
GROUP BY from_status, to_status
"""


def _medians(applications: QuerySet[Application]) -> list[dict[str, Any]]:
    sql, params = applications.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_MEDIAN_SQL.format(applications=sql), params)
        found = {(a, b): (days, n) for a, b, days, n in cursor.fetchall()}
    order = {status: n for n, status in enumerate(STATUSES)}
    return [
        {"from": a, "to": b, "median_days": round(float(days), 1), "moves": n}
        for (a, b), (days, n) in sorted(found.items(), key=lambda item: (order[item[0][0]], order[item[0][1]]))
    ]


def enrolment_weights() -> dict[str, Decimal]:
    """Per status: the share of closed applications that passed through it and ended enrolled (company-wide,
    whatever the report's filters); the default where fewer than MIN_SAMPLE closed ones did. One query."""
    rows = (
        StatusChange.objects.filter(application__status__in=FINAL)
        .values("to_status")
        .annotate(
            reached=Count("application", distinct=True),
            enrolled=Count("application", distinct=True, filter=Q(application__status=S.ENROLLED)),
        )
        .order_by()
    )
    learnt = {
        row["to_status"]: (Decimal(row["enrolled"]) / row["reached"]).quantize(Decimal("0.0001"))
        for row in rows
        if row["reached"] >= MIN_SAMPLE
    }
    weights: dict[str, Decimal] = {status: learnt.get(status, weight) for status, weight in DEFAULT_WEIGHTS.items()}
    weights[S.ENROLLED] = Decimal(1)
    return weights


def _expected_commission(applications: QuerySet[Application], weights: dict[str, Decimal]) -> list[dict[str, Any]]:
    """Per intake and currency: tuition times commission rate of partner universities, weighted by status."""
    commission = ExpressionWrapper(
        F("course__tuition_fee") * F("course__university__commission_rate") / 100,
        output_field=DecimalField(max_digits=16, decimal_places=4),
    )
    rows = (
        applications.filter(status__in=list(weights))
        .exclude(course__university__partnership=Partnership.NONE)
        .values("intake", "course__currency", "status")
        .annotate(amount=Sum(commission), n=Count("id"))
        .order_by()
    )
    totals: dict[tuple[date, str], dict[str, Any]] = {}
    for row in rows:
        entry = totals.setdefault(
            (row["intake"], row["course__currency"]),
            {"expected": Decimal(0), "enrolled": Decimal(0), "applications": 0},
        )
        entry["expected"] += row["amount"] * weights[row["status"]]
        entry["applications"] += row["n"]
        if row["status"] == S.ENROLLED:
            entry["enrolled"] += row["amount"]
    return [
        {
            "intake": format_intake(intake),
            "currency": currency,
            "applications": entry["applications"],
            "expected": str(entry["expected"].quantize(CENT, ROUND_HALF_UP)),
            "enrolled": str(entry["enrolled"].quantize(CENT, ROUND_HALF_UP)),
        }
        for (intake, currency), entry in sorted(totals.items())
    ]


def applications_report(scope: ApplicationReportScope) -> dict[str, Any]:
    """Nine queries whatever the data size."""
    applications = _applications(scope)
    totals = applications.aggregate(total=Count("id"), **_per_status())
    reached = StatusChange.objects.filter(application__in=applications.values("id")).aggregate(
        offered=Count("application", distinct=True, filter=Q(to_status__in=OFFERS)),
        refused=Count("application", distinct=True, filter=Q(to_status=S.REJECTED)),
        granted=Count("application", distinct=True, filter=Q(to_status=S.VISA_GRANTED)),
        visa_refused=Count("application", distinct=True, filter=Q(to_status=S.VISA_REFUSED)),
        **{f"reached_{s}": Count("application", distinct=True, filter=Q(to_status=s)) for s in STATUSES},
    )
    weights = enrolment_weights()
    return {
        "scope": scope.as_dict(),
        "total": totals["total"],
        "by_status": {s: totals[s] for s in STATUSES},
        "funnel": [{"status": s, "reached": reached[f"reached_{s}"]} for s in PATH],
        "offer_rate": _rate(reached["offered"], reached["offered"] + reached["refused"]),
        "visa_success_rate": _rate(reached["granted"], reached["granted"] + reached["visa_refused"]),
        "median_days": _medians(applications),
        "by_office": _breakdown(applications, "office_id", "office__name", "office_id"),
        "by_consultant": _breakdown(applications, "consultant_id", "consultant__email", "consultant_id"),
        "by_country": _breakdown(applications, "destination", None, "country"),
        "by_intake": [
            {**row, "intake": format_intake(row["intake"]), "label": format_intake(row["intake"])}
            for row in _breakdown(applications, "intake", None, "intake")
        ],
        "expected_commission": _expected_commission(applications, weights),
        "weights": {status: float(weight) for status, weight in weights.items()},
    }
