"""Whose profile a user may see (the students they may name, `leads.selectors.students_for`), whether the
passport number is shown to them, and the figures eligibility reads from a profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from accounts.models import STAFF_ROLES, Role, User
from accounts.selectors import user_list_for
from core.errors import ErrorCode, NotFound, ValidationFailed
from leads.selectors import students_for
from students.models import StudentProfile
from study import vocabulary
from study.serializers import EMPTY_PREFERENCES

EDUCATION_RANK = {level: n for n, level in enumerate(vocabulary.EducationLevel.values)}


def student_list_for(user: User) -> QuerySet[User]:
    """The students `user` may see: super admin all; staff their office's and their leads' students (as for
    documents and appointments); a student themself."""
    return students_for(user).select_related("profile")


def student_get_for(user: User, student_id: object) -> User:
    try:
        return student_list_for(user).get(pk=int(str(student_id)))
    except (User.DoesNotExist, TypeError, ValueError):
        raise NotFound("Student not found.") from None


def student_and_consultant_named(
    user: User,
    student_id: object,
    consultant_id: int | None,
    *,
    unknown_student: ErrorCode,
    unknown_consultant: ErrorCode,
) -> tuple[User, User | None]:
    """The student and the (optional) consultant a body names by id, as `user` may see them; a 400 with the
    caller's code for either one `user` may not name (hidden reads as unknown, never as a 404)."""
    try:
        student = student_get_for(user, student_id)
    except NotFound:
        raise ValidationFailed("Unknown student.", code=unknown_student) from None
    if consultant_id is None:
        return student, None
    consultant = user_list_for(user).filter(pk=consultant_id).first()
    if consultant is None:
        raise ValidationFailed("Unknown consultant.", code=unknown_consultant)
    return student, consultant


def profile_of(student: User) -> StudentProfile:
    """The student's profile; an empty one (not saved) when they have none yet."""
    try:
        return student.profile
    except StudentProfile.DoesNotExist:
        return StudentProfile(student=student, preferences=dict(EMPTY_PREFERENCES))


def passport_visible_to(viewer: User, student: User) -> bool:
    """The student and the staff of the student's office see the number; everyone else (other offices,
    super admins, staff of a student with no office yet) sees it masked."""
    if viewer.pk == student.pk:
        return True
    return (
        viewer.is_active
        and viewer.role in STAFF_ROLES
        and viewer.role != Role.SUPER_ADMIN
        and student.office_id is not None
        and viewer.office_id == student.office_id
    )


def mask_passport(number: str) -> str:
    """`•••••789`: the last three characters, so a person can tell two documents apart."""
    if not number:
        return ""
    return "•" * max(len(number) - 3, 3) + number[-3:]


def score_states(scores: list[dict[str, Any]], *, today: date) -> list[dict[str, Any]]:
    """Each stored score with its `valid_until` and whether it is still `valid` today."""
    out = []
    for score in scores:
        taken_on = date.fromisoformat(score["taken_on"])
        valid_until = vocabulary.score_valid_until(score["test"], taken_on)
        out.append({**score, "valid_until": valid_until, "valid": valid_until is None or valid_until >= today})
    return out


@dataclass(frozen=True)
class Applicant:
    """What eligibility reads from a profile: the best valid overall score per test, the GPA on a 4.0 scale of
    the highest (then latest) education with a grade, and the wishes."""

    scores: dict[str, Decimal]
    gpa: Decimal | None
    intake: date | None
    countries: tuple[str, ...]
    levels: tuple[str, ...]
    fields: tuple[str, ...]
    budget: Decimal | None
    currency: str | None


def applicant_of(profile: StudentProfile, *, today: date) -> Applicant:
    scores: dict[str, Decimal] = {}
    for score in score_states(profile.test_scores or [], today=today):
        if score["valid"]:
            value = Decimal(str(score["overall"]))
            scores[score["test"]] = max(value, scores.get(score["test"], value))
    graded = sorted(
        profile.education or [], key=lambda e: (EDUCATION_RANK.get(e["level"], -1), e["year"]), reverse=True
    )
    gpa = vocabulary.gpa_on_four(Decimal(str(graded[0]["grade"])), Decimal(str(graded[0]["scale"]))) if graded else None
    wishes = profile.preferences or {}
    budget = wishes.get("budget_per_year")
    return Applicant(
        scores=scores,
        gpa=gpa,
        intake=vocabulary.parse_intake(wishes["intake"]) if wishes.get("intake") else None,
        countries=tuple(wishes.get("countries") or ()),
        levels=tuple(wishes.get("levels") or ()),
        fields=tuple(wishes.get("fields") or ()),
        budget=Decimal(str(budget)) if budget is not None else None,
        currency=wishes.get("currency"),
    )


def profile_view(viewer: User, student: User, *, today: date) -> dict[str, Any]:
    """The profile as `viewer` may see it: scores with their validity, the passport masked unless shown."""
    profile = profile_of(student)
    shown = passport_visible_to(viewer, student)
    return {
        "student_id": student.pk,
        "date_of_birth": profile.date_of_birth,
        "nationality": str(profile.nationality or ""),
        "passport_number": profile.passport_number if shown else mask_passport(profile.passport_number),
        "passport_masked": not shown and bool(profile.passport_number),
        "education": profile.education or [],
        "test_scores": score_states(profile.test_scores or [], today=today),
        "preferences": {**EMPTY_PREFERENCES, **(profile.preferences or {})},
        "work_experience": profile.work_experience or [],
        "funding": {"sources": [], "amount": None, "currency": None, "notes": "", **(profile.funding or {})},
        "updated_at": profile.updated_at if profile.pk else None,
    }
