"""Reads of the catalogue, for everyone signed in; filters, full-text search over the stored vector,
and the courses a student is eligible for, ranked by fit: all in SQL, a fixed number of queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Case, Count, F, FloatField, IntegerField, Q, QuerySet, Value, When

from accounts.models import STAFF_ROLES, User
from catalogue.models import Course, University
from core.errors import NotFound
from students.selectors import Applicant, applicant_of, profile_of, student_get_for

# How much each matched wish weighs in a course's fit (eligible_for's ranking).
FIT_WEIGHTS = {"country": 3, "level": 3, "field": 2, "budget": 2}
_WORD = re.compile(r"\w+", re.UNICODE)


def university_list_for(user: User) -> QuerySet[University]:
    if not user.is_active:
        return University.objects.none()
    return University.objects.annotate(course_count=Count("courses")).order_by("name", "id")


def university_get_for(user: User, university_id: object) -> University:
    try:
        return university_list_for(user).get(pk=int(str(university_id)))
    except (University.DoesNotExist, TypeError, ValueError):
        raise NotFound("University not found.") from None


def course_list_for(user: User) -> QuerySet[Course]:
    """Staff see every course (`is_active` filters); students and others only those on offer."""
    if not user.is_active:
        return Course.objects.none()
    courses = Course.objects.select_related("university").defer("search_vector")
    return courses if user.role in STAFF_ROLES else courses.filter(is_active=True)


# What a page of courses shows (`CourseSerializer`), and no more: not the university's commission, notes and
# timestamps, nor the course's creation time, parsed for every row of a list.
COURSE_PAGE_FIELDS = (
    *("id", "university_id", "name", "level", "field", "duration_months", "tuition_fee", "currency", "intakes"),
    *("min_ielts", "min_toefl", "min_pte", "min_gpa", "requirement_notes", "is_active", "updated_at"),
    *("university__id", "university__name", "university__country", "university__city"),
)


def course_get_for(user: User, course_id: object) -> Course:
    try:
        return course_list_for(user).get(pk=int(str(course_id)))
    except (Course.DoesNotExist, TypeError, ValueError):
        raise NotFound("Course not found.") from None


def search_query(text: str) -> SearchQuery | None:
    """Every word typed, each as a prefix ("comp sci" finds Computer Science); None when no word."""
    words = _WORD.findall(text)[:8]
    if not words:
        return None
    return SearchQuery(" & ".join(f"{word}:*" for word in words), search_type="raw", config="english")


@dataclass(frozen=True)
class CourseFilters:
    country: str | None = None
    level: str | None = None
    field: str | None = None
    intake: int | None = None  # a month
    max_tuition: Decimal | None = None
    university_id: int | None = None
    is_active: bool | None = None
    q: str | None = None


def courses_filtered(courses: QuerySet[Course], filters: CourseFilters) -> QuerySet[Course]:
    if filters.country:
        courses = courses.filter(university__country=filters.country)
    if filters.level:
        courses = courses.filter(level=filters.level)
    if filters.field:
        courses = courses.filter(field__icontains=filters.field)
    if filters.intake:
        courses = courses.filter(intakes__contains=[filters.intake])
    if filters.max_tuition is not None:
        courses = courses.filter(tuition_fee__lte=filters.max_tuition)
    if filters.university_id:
        courses = courses.filter(university_id=filters.university_id)
    if filters.is_active is not None:
        courses = courses.filter(is_active=filters.is_active)
    query = search_query(filters.q) if filters.q else None
    if filters.q and query is None:  # nothing searchable typed (punctuation): no match
        return courses.none().annotate(rank=Value(0.0, output_field=FloatField()))
    if query is not None:
        courses = courses.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query))
    return courses


def _english_met(scores: dict[str, Decimal]) -> Q:
    """No English requirement, or one of the tests the course names is met by a valid score."""
    none_asked = Q(min_ielts__isnull=True, min_toefl__isnull=True, min_pte__isnull=True)
    met = Q(pk__in=[])
    for test, column in (("ielts", "min_ielts"), ("toefl", "min_toefl"), ("pte", "min_pte")):
        if test in scores:
            met |= Q(**{f"{column}__isnull": False, f"{column}__lte": scores[test]})
    return none_asked | met


def courses_eligible(courses: QuerySet[Course], applicant: Applicant) -> QuerySet[Course]:
    """Courses whose requirements the applicant's valid scores and grades meet and whose intakes include
    the month they want, annotated with `fit` (matched wishes, weighted) for ranking."""
    courses = courses.filter(_english_met(applicant.scores))
    gpa_met = Q(min_gpa__isnull=True) | (Q(min_gpa__lte=applicant.gpa) if applicant.gpa is not None else Q(pk__in=[]))
    courses = courses.filter(gpa_met)
    if applicant.intake is not None:
        courses = courses.filter(intakes__contains=[applicant.intake.month])
    wishes = []
    if applicant.countries:
        wishes.append(When(Q(university__country__in=applicant.countries), then=FIT_WEIGHTS["country"]))
    if applicant.levels:
        wishes.append(When(Q(level__in=applicant.levels), then=FIT_WEIGHTS["level"]))
    if applicant.fields:
        field_match = Q(pk__in=[])
        for field in applicant.fields:
            field_match |= Q(field__icontains=field)
        wishes.append(When(field_match, then=FIT_WEIGHTS["field"]))
    if applicant.budget is not None and applicant.currency:
        wishes.append(
            When(Q(currency=applicant.currency, tuition_fee__lte=applicant.budget), then=FIT_WEIGHTS["budget"])
        )
    fit: Any = Value(0, output_field=IntegerField())
    for wish in wishes:
        fit = fit + Case(wish, default=Value(0), output_field=IntegerField())
    return courses.annotate(fit=fit)


def applicant_for(user: User, student_id: object, *, today: date) -> Applicant:
    """The student `user` names for `eligible_for` (404 when hidden), as eligibility reads them. One query."""
    return applicant_of(profile_of(student_get_for(user, student_id)), today=today)


def course_ordering(*, eligible: bool, searched: bool) -> list[str]:
    if eligible:
        return ["-fit", *(["-rank"] if searched else []), "tuition_fee", "id"]
    if searched:
        return ["-rank", "id"]
    return ["university__name", "name", "id"]
