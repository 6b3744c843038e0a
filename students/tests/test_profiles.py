"""Profiles over REST: impossible values refused in the one shape, scores' validity, the passport number
shown only to the student and their office's staff and never logged, lead preferences taken at conversion."""

import logging
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection

from accounts.tests.factories import StudentFactory
from leads.models import Activity
from leads.tests.factories import LeadFactory
from students.models import StudentProfile

pytestmark = pytest.mark.django_db

IELTS = {"test": "ielts", "overall": "7.5", "sections": {"writing": "6.5"}, "taken_on": "2025-06-01"}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2027, 3, 15, 10, tzinfo=UTC), tick=True):
        yield


def test_a_student_fills_their_profile_and_scores_get_their_validity(client_for, student):
    client = client_for(student)
    response = client.patch(
        "/api/v1/auth/me/profile",
        {
            "date_of_birth": "2004-02-29",
            "nationality": "in",
            "passport_number": "p1234567",
            "test_scores": [IELTS, {"test": "toefl", "overall": 100, "taken_on": "2024-02-29"}],
            "education": [
                {
                    "level": "bachelor",
                    "institution": "Delhi University",
                    "country": "IN",
                    "grade": 8.1,
                    "scale": 10,
                    "year": 2026,
                }
            ],
            "preferences": {
                "countries": ["gb", "ca"],
                "levels": ["master"],
                "intake": "2027-09",
                "budget_per_year": 25000,
                "currency": "gbp",
            },
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["nationality"] == "IN" and body["passport_number"] == "P1234567" and not body["passport_masked"]
    ielts, toefl = body["test_scores"]
    assert ielts["valid_until"] == "2027-06-01" and ielts["valid"] is True
    assert toefl["valid_until"] == "2026-02-28" and toefl["valid"] is False  # two years from 29 February
    assert body["preferences"]["countries"] == ["GB", "CA"] and body["preferences"]["currency"] == "GBP"
    assert client.get("/api/v1/auth/me/profile").json() == body


@pytest.mark.parametrize(
    "change,where",
    [
        ({"test_scores": [{**IELTS, "overall": "9.5"}]}, "test_scores"),
        ({"test_scores": [{**IELTS, "overall": "6.3"}]}, "test_scores"),
        ({"test_scores": [{**IELTS, "sections": {"singing": 5}}]}, "test_scores"),
        ({"test_scores": [{**IELTS, "taken_on": "2027-04-01"}]}, "test_scores"),
        ({"test_scores": [{"test": "toefl", "overall": 121, "taken_on": "2026-01-01"}]}, "test_scores"),
        (
            {
                "education": [
                    {"level": "bachelor", "institution": "X", "country": "US", "grade": 5, "scale": 4, "year": 2024}
                ]
            },
            "education",
        ),
        ({"nationality": "XX"}, "nationality"),
        ({"preferences": {"intake": "2027-13"}}, "preferences"),
        ({"preferences": {"intake": "Sept 2027"}}, "preferences"),
        ({"preferences": {"budget_per_year": 1000, "currency": "ABC"}}, "preferences"),
        ({"preferences": {"budget_per_year": 1000}}, "preferences"),
        ({"date_of_birth": "2030-01-01"}, "date_of_birth"),
        ({"passport_number": "x"}, "passport_number"),
        ({"test_scores": [{"test": "toefl", "taken_on": "2026-01-01"}]}, "test_scores"),  # no overall: a 400
        ({"education": [{"level": "bachelor"}]}, "education"),
        (
            {"work_experience": [{"organisation": "A", "title": "B", "start": "2024-01-01", "end": "2023-01-01"}]},
            "work_experience",
        ),
    ],
)
def test_impossible_values_are_a_400_naming_the_field_and_nothing_is_written(client_for, student, change, where):
    response = client_for(student).patch("/api/v1/auth/me/profile", change, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and where in error["details"] and error["message"].startswith(where)
    assert not StudentProfile.objects.exists()


def test_a_non_object_body_is_a_400(client_for, student):
    response = client_for(student).patch("/api/v1/auth/me/profile", [1, 2], format="json")
    assert response.status_code == 400


# viewer → (may see the profile, sees the number)
PASSPORT = {
    "student": (True, True),
    "manager": (True, True),
    "consultant": (True, True),
    "receptionist": (True, True),
    "super_admin": (True, False),  # not the office's staff: masked
    "other_manager": (False, None),
    "other_consultant": (False, None),
}


@pytest.mark.parametrize("viewer", list(PASSPORT))
def test_the_passport_number_is_shown_to_the_student_and_their_office_only(
    client_for, actors, other_manager, other_consultant, student, viewer
):
    StudentProfile.objects.create(student=student, passport_number="P1234567")
    user = {**actors, "other_manager": other_manager, "other_consultant": other_consultant}[viewer]
    response = client_for(user).get(f"/api/v1/students/{student.pk}/profile")
    visible, shown = PASSPORT[viewer]
    if not visible:
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
        return
    body = response.json()
    assert body["passport_number"] == ("P1234567" if shown else "•••••567")
    assert body["passport_masked"] is (not shown)


@pytest.mark.parametrize(
    "role,status", [("manager", 200), ("consultant", 200), ("receptionist", 403), ("super_admin", 200)]
)
def test_staff_who_may_edit(client_for, actors, student, role, status):
    response = client_for(actors[role]).patch(
        f"/api/v1/students/{student.pk}/profile", {"nationality": "NG"}, format="json"
    )
    assert response.status_code == status


def test_staff_have_no_profile_of_their_own(client_for, consultant, student):
    assert client_for(consultant).get("/api/v1/auth/me/profile").status_code == 404
    assert client_for(student).get(f"/api/v1/students/{consultant.pk}/profile").status_code == 404


def test_the_passport_number_never_reaches_a_log_line(client_for, student, caplog, settings):
    """With SQL debug logging on, the number is in no formatted line of the project's one handler."""
    handler = logging.getLogger().handlers[0]
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            if all(f.filter(record) for f in handler.filters):
                lines.append(handler.format(record))

    keep = Keep()
    sql = logging.getLogger("django.db.backends")
    sql.addHandler(keep)
    sql.setLevel(logging.DEBUG)
    try:
        connection.force_debug_cursor = True
        client_for(student).patch("/api/v1/auth/me/profile", {"passport_number": "Z9988776"}, format="json")
        client_for(student).get("/api/v1/auth/me/profile")
    finally:
        connection.force_debug_cursor = False
        sql.removeHandler(keep)
        sql.setLevel(logging.WARNING)
    assert any("students_studentprofile" in line for line in lines)  # the writes were logged...
    assert not any("Z9988776" in line for line in lines)  # ...without the number
    timeline = Activity.objects.get(kind="profile")
    assert "passport number" in timeline.text and "Z9988776" not in str(timeline.data) + timeline.text


def test_lead_preferences_become_the_profiles_at_conversion(client_for, manager, consultant, office):
    lead = (
        client_for(manager)
        .post(
            "/api/v1/leads",
            {
                "first_name": "Ada",
                "email": "ada@example.com",
                "preferences": {"countries": ["AU"], "levels": ["master"], "fields": ["Nursing"], "intake": "2027-07"},
            },
            format="json",
        )
        .json()
    )
    assert lead["preferences"]["countries"] == ["AU"]
    bad = client_for(manager).patch(f"/api/v1/leads/{lead['id']}", {"preferences": {"intake": "July"}}, format="json")
    assert bad.status_code == 400
    client_for(manager).post(f"/api/v1/leads/{lead['id']}/assign", {"consultant_id": consultant.pk})
    converted = client_for(consultant).post(f"/api/v1/leads/{lead['id']}/convert").json()
    profile = client_for(consultant).get(f"/api/v1/students/{converted['student_id']}/profile").json()
    assert profile["preferences"] == {
        "countries": ["AU"],
        "levels": ["master"],
        "fields": ["Nursing"],
        "intake": "2027-07",
        "budget_per_year": None,
        "currency": None,
    }


def test_conversion_keeps_what_the_lead_left_empty(client_for, manager, office, consultant):
    student = StudentFactory(email="sam@example.com")
    StudentProfile.objects.create(student=student, preferences={"countries": ["GB"], "intake": "2027-09"})
    lead = LeadFactory(
        office=office,
        email=student.email,
        student=student,
        assigned_to=consultant,
        preferences={"levels": ["phd"], "intake": "2028-01"},
    )
    client_for(manager).post(f"/api/v1/leads/{lead.pk}/convert")
    student.profile.refresh_from_db()
    assert student.profile.preferences["countries"] == ["GB"]
    assert student.profile.preferences["levels"] == ["phd"] and student.profile.preferences["intake"] == "2028-01"
