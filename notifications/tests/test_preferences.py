"""notification-preferences: defaults per role, partial changes, quiet hours, bad input refused whole."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications.models import NotificationPreference
from notifications.preferences import category_of, effective

pytestmark = pytest.mark.django_db


def test_students_and_staff_start_from_their_roles_defaults(client_for, student, consultant, office):
    mine = client_for(student).get("/api/v1/notification-preferences").json()
    assert mine["message"] == {"push": True, "email": True}
    assert mine["appointment"] == {"push": True, "email": True}
    assert mine["announcement"] == {"push": True, "email": False}
    assert mine["quiet_hours"] is None and mine["private_previews"] is False and mine["timezone"] == office.timezone
    staff = client_for(consultant).get("/api/v1/notification-preferences").json()
    assert staff["appointment"] == {"push": True, "email": False} and staff["task"] == {"push": True, "email": True}


def test_a_change_keeps_what_it_does_not_name(client_for, student):
    client = client_for(student)
    body = client.patch(
        "/api/v1/notification-preferences",
        {"message": {"email": False}, "quiet_hours": {"start": "22:00", "end": "07:00"}, "private_previews": True},
        format="json",
    ).json()
    assert body["message"] == {"push": True, "email": False}
    assert body["quiet_hours"] == {"start": "22:00", "end": "07:00"} and body["private_previews"] is True
    body = client.patch("/api/v1/notification-preferences", {"message": {"push": False}}, format="json").json()
    assert body["message"] == {"push": False, "email": False} and body["quiet_hours"] == {
        "start": "22:00",
        "end": "07:00",
    }
    assert (
        client.patch("/api/v1/notification-preferences", {"quiet_hours": None}, format="json").json()["quiet_hours"]
        is None
    )
    assert client.get("/api/v1/notification-preferences").json()["message"] == {"push": False, "email": False}


@pytest.mark.parametrize(
    "body",
    [
        {"message": {"push": "yes"}},
        {"message": {"sms": True}},
        {"message": {}},
        {"message": True},
        {"holidays": {"push": True}},
        {"quiet_hours": {"start": "25:00", "end": "07:00"}},
        {"quiet_hours": {"start": "7", "end": "08:00"}},
        {"quiet_hours": {"start": "22:00"}},
        {"quiet_hours": "22-07"},
        {"private_previews": "true"},
        {"timezone": "Mars/Olympus"},
        {"message": {"push": False}, "timezone": "Nowhere"},
    ],
)
def test_bad_preferences_are_refused_whole(client_for, student, body):
    response = client_for(student).patch("/api/v1/notification-preferences", body, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_preferences"
    assert client_for(student).get("/api/v1/notification-preferences").json()["message"] == {
        "push": True,
        "email": True,
    }


def test_a_non_object_body_is_a_400(client_for, student):
    response = client_for(student).patch("/api/v1/notification-preferences", [1, 2], format="json")
    assert response.status_code == 400


def test_each_user_changes_only_their_own(client_for, student, consultant):
    client_for(student).patch("/api/v1/notification-preferences", {"message": {"push": False}}, format="json")
    assert client_for(consultant).get("/api/v1/notification-preferences").json()["message"]["push"] is True
    assert NotificationPreference.objects.get().user_id == student.pk


@pytest.mark.parametrize(
    "kind, category",
    [
        ("appointment_reminder", "appointment"),
        ("document_reviewed", "document"),
        ("application", "application"),
        ("application_updated", "application"),
        ("task_due", "task"),
        ("lead_assigned", "task"),
        ("conversation_added", "message"),
        ("announcement", "announcement"),
    ],
)
def test_every_kind_answers_to_a_category(kind, category):
    assert category_of(kind) == category


@pytest.mark.parametrize(
    "start, end, local, quiet",
    [
        ("22:00", "07:00", "23:30", True),
        ("22:00", "07:00", "06:59", True),
        ("22:00", "07:00", "07:00", False),
        ("22:00", "07:00", "12:00", False),
        ("13:00", "14:00", "13:30", True),
        ("13:00", "13:00", "13:00", False),
    ],
)
def test_quiet_hours_on_the_users_clock(start, end, local, quiet):
    prefs = effective(
        role="student",
        overrides=None,
        quiet_start=dt.time.fromisoformat(start),
        quiet_end=dt.time.fromisoformat(end),
        private_previews=False,
        timezone="America/New_York",
    )
    hour, minute = map(int, local.split(":"))
    moment = dt.datetime(2026, 7, 1, hour, minute, tzinfo=dt.timezone(dt.timedelta(hours=-4)))  # New York in July
    assert prefs.quiet_at(moment.astimezone(dt.UTC)) is quiet
