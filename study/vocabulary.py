"""The study vocabulary as plain code: levels, intakes, tests and the scores each allows, countries
and currencies. Validators raise `ValidationFailed` with a `StudyErrorCode`; no I/O, no clock (the
caller passes "today" where it matters)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import pycountry
from django.db import models
from django_countries import countries

from core.errors import ValidationFailed
from study.errors import StudyErrorCode


class StudyLevel(models.TextChoices):
    """What a course leads to, and what a student looks for."""

    FOUNDATION = "foundation", "Foundation"
    DIPLOMA = "diploma", "Diploma"
    BACHELOR = "bachelor", "Bachelor's"
    MASTER = "master", "Master's"
    PHD = "phd", "PhD"
    CERTIFICATE = "certificate", "Certificate"


class EducationLevel(models.TextChoices):
    """What a student has studied (a profile's education entries)."""

    SECONDARY = "secondary", "Secondary school"
    FOUNDATION = "foundation", "Foundation"
    DIPLOMA = "diploma", "Diploma"
    BACHELOR = "bachelor", "Bachelor's"
    MASTER = "master", "Master's"
    PHD = "phd", "PhD"
    CERTIFICATE = "certificate", "Certificate"


class TestKind(models.TextChoices):
    IELTS = "ielts", "IELTS"
    TOEFL = "toefl", "TOEFL iBT"
    PTE = "pte", "PTE Academic"
    DUOLINGO = "duolingo", "Duolingo English Test"
    GRE = "gre", "GRE"
    GMAT = "gmat", "GMAT"
    SAT = "sat", "SAT"


@dataclass(frozen=True)
class ScoreRule:
    low: Decimal
    high: Decimal
    step: Decimal
    valid_years: int | None  # None: the result does not expire
    sections: tuple[str, ...]
    section_low: Decimal
    section_high: Decimal
    section_step: Decimal

    def fits(self, value: Decimal, *, section: bool = False) -> bool:
        low, high, step = (
            (self.section_low, self.section_high, self.section_step) if section else (self.low, self.high, self.step)
        )
        return low <= value <= high and (value - low) % step == 0


D = Decimal
# The published scales of each test; IELTS and TOEFL (and PTE, Duolingo) results count for two years.
SCORE_RULES: dict[str, ScoreRule] = {
    TestKind.IELTS: ScoreRule(
        D(0), D(9), D("0.5"), 2, ("listening", "reading", "writing", "speaking"), D(0), D(9), D("0.5")
    ),
    TestKind.TOEFL: ScoreRule(
        D(0), D(120), D(1), 2, ("reading", "listening", "speaking", "writing"), D(0), D(30), D(1)
    ),
    TestKind.PTE: ScoreRule(D(10), D(90), D(1), 2, ("listening", "reading", "speaking", "writing"), D(10), D(90), D(1)),
    TestKind.DUOLINGO: ScoreRule(
        D(10), D(160), D(5), 2, ("literacy", "comprehension", "conversation", "production"), D(10), D(160), D(5)
    ),
    TestKind.GRE: ScoreRule(
        D(260), D(340), D(1), 5, ("verbal", "quantitative", "analytical_writing"), D(0), D(170), D("0.5")
    ),
    TestKind.GMAT: ScoreRule(D(200), D(805), D(1), 5, ("quantitative", "verbal", "data_insights"), D(0), D(90), D(1)),
    TestKind.SAT: ScoreRule(D(400), D(1600), D(10), None, ("reading_writing", "math"), D(200), D(800), D(10)),
}


def score_valid_until(test: str, taken_on: date) -> date | None:
    """The last day a result counts (taken_on plus the test's validity; 29 February → 28 February)."""
    years = SCORE_RULES[test].valid_years
    if years is None:
        return None
    try:
        return taken_on.replace(year=taken_on.year + years)
    except ValueError:
        return taken_on.replace(year=taken_on.year + years, day=28)


def check_score(test: str, value: object, *, section: str | None = None) -> Decimal:
    """A score on the test's own scale (IELTS 0–9 in halves, TOEFL 0–120, ...), or 400 `invalid_score`."""
    if test not in SCORE_RULES:
        raise ValidationFailed(f"Unknown test {test!r}.", code=StudyErrorCode.INVALID_SCORE)
    rule = SCORE_RULES[test]
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = Decimal("NaN")
    if not number.is_finite() or not rule.fits(number, section=section is not None):
        low, high, step = (
            (rule.section_low, rule.section_high, rule.section_step)
            if section is not None
            else (rule.low, rule.high, rule.step)
        )
        what = f"{TestKind(test).label} {section or 'overall'}"
        raise ValidationFailed(
            f"{what} scores run from {low} to {high} in steps of {step}.",
            code=StudyErrorCode.INVALID_SCORE,
            details={"test": test, "section": section or "overall", "min": str(low), "max": str(high)},
        )
    return number


# Grades: a grade on its own scale (a 4.0 GPA, percent, a 10- or 20-point scale, German 1.0–5.0 is not linear
# and is typed as converted). Converted to 4.0 linearly for course requirements.
GRADE_SCALES = (D(4), D(5), D(7), D(10), D(20), D(100))


def check_grade(grade: object, scale: object) -> tuple[Decimal, Decimal]:
    try:
        grade_value, scale_value = Decimal(str(grade)), Decimal(str(scale))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("A grade and its scale are numbers.", code=StudyErrorCode.INVALID_GRADE) from None
    if scale_value not in GRADE_SCALES:
        raise ValidationFailed(
            f"A grade's scale is one of {', '.join(str(s) for s in GRADE_SCALES)}.",
            code=StudyErrorCode.INVALID_GRADE,
            details={"scale": [str(s) for s in GRADE_SCALES]},
        )
    if not (grade_value.is_finite() and 0 <= grade_value <= scale_value):
        raise ValidationFailed(
            f"A grade on a {scale_value} scale runs from 0 to {scale_value}.",
            code=StudyErrorCode.INVALID_GRADE,
            details={"grade": str(grade_value), "scale": str(scale_value)},
        )
    return grade_value, scale_value


def gpa_on_four(grade: Decimal, scale: Decimal) -> Decimal:
    return (grade / scale * 4).quantize(Decimal("0.01"))


# --- intakes ------------------------------------------------------------------------------------

_INTAKE = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_INTAKE_YEAR, LAST_INTAKE_YEAR = 2000, 2100


def parse_intake(value: object) -> date:
    """`YYYY-MM` (e.g. "2027-09") as the first day of that month; anything else is 400 `invalid_intake`."""
    match = _INTAKE.match(value) if isinstance(value, str) else None
    if match is not None:
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12 and FIRST_INTAKE_YEAR <= year <= LAST_INTAKE_YEAR:
            return date(year, month, 1)
    raise ValidationFailed(
        "An intake is a month written YYYY-MM, e.g. 2027-09.",
        code=StudyErrorCode.INVALID_INTAKE,
        details={"intake": str(value)[:20]},
    )


def format_intake(value: date | None) -> str | None:
    return f"{value.year:04d}-{value.month:02d}" if value is not None else None


def check_intake_months(months: object) -> list[int]:
    """A course's intake months: 1–12, at least one; sorted, without repeats."""
    if not isinstance(months, (list, tuple)) or not months:
        raise ValidationFailed("A course has at least one intake month (1–12).", code=StudyErrorCode.INVALID_INTAKE)
    checked = set()
    for month in months:
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise ValidationFailed(
                "Intake months are numbers from 1 to 12.",
                code=StudyErrorCode.INVALID_INTAKE,
                details={"month": str(month)[:20]},
            )
        checked.add(month)
    return sorted(checked)


# --- countries and currencies -------------------------------------------------------------------


def check_country(code: object) -> str:
    """An ISO 3166-1 alpha-2 code (upper case), or 400 `unknown_country`."""
    if isinstance(code, str) and code.upper() in countries:
        return code.upper()
    raise ValidationFailed(
        "Countries are ISO 3166 alpha-2 codes, e.g. GB.",
        code=StudyErrorCode.UNKNOWN_COUNTRY,
        details={"country": str(code)[:20]},
    )


# ISO 4217 codes of real money: funds, metals and test codes (X..) are not tuition currencies.
CURRENCIES: frozenset[str] = frozenset(
    c.alpha_3
    for c in pycountry.currencies
    if not c.alpha_3.startswith("X") or c.alpha_3 in {"XAF", "XOF", "XCD", "XPF"}
)


def check_currency(code: object) -> str:
    """An ISO 4217 code (upper case), or 400 `unknown_currency`."""
    if isinstance(code, str) and code.upper() in CURRENCIES:
        return code.upper()
    raise ValidationFailed(
        "Currencies are ISO 4217 codes, e.g. GBP.",
        code=StudyErrorCode.UNKNOWN_CURRENCY,
        details={"currency": str(code)[:20]},
    )
