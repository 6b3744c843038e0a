"""A student's profile in their export and erasure (core.privacy)."""

from __future__ import annotations

from accounts.models import User
from core.privacy import Area, AreaExport, Erasure, register_area
from students.models import StudentProfile


def export(person: User) -> AreaExport:
    profile = StudentProfile.objects.filter(student=person).first()
    if profile is None:
        return AreaExport(None)
    return AreaExport(
        {
            "date_of_birth": profile.date_of_birth,
            "nationality": str(profile.nationality or ""),
            "passport_number": profile.passport_number,  # the person's own, in the file handed to them
            "education": profile.education,
            "test_scores": profile.test_scores,
            "preferences": profile.preferences,
            "work_experience": profile.work_experience,
            "funding": profile.funding,
            "updated_at": profile.updated_at,
        }
    )


def erase(erasure: Erasure) -> None:
    erasure.count("student profile deleted", StudentProfile.objects.filter(student=erasure.person).delete()[0])


register_area(
    Area(
        name="student_profile",
        description=(
            "Your student profile: date of birth, nationality, passport number, education, test scores, what you "
            "look for in a course, work experience and funding (null when you never had one)."
        ),
        export=export,
        erase=erase,
        covers={"students.StudentProfile.student": "the student's profile: exported; deleted on erasure"},
    )
)
