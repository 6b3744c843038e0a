"""Staff set their own notification preferences in the console, through the API's service."""

import pytest
from django.test import Client

from accounts.tests.factories import PASSWORD
from notifications.models import NotificationPreference

pytestmark = pytest.mark.django_db


def signed_in(user):
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


@pytest.mark.parametrize("role", ["super_admin", "manager", "consultant", "receptionist"])
def test_staff_edit_their_own_preferences(actors, role):
    user = actors[role]
    client = signed_in(user)
    page = client.get("/admin/notification-preferences/")
    assert page.status_code == 200 and b'name="message.push" checked' in page.content
    response = client.post(
        "/admin/notification-preferences/",
        {
            "message.email": "on",
            "task.push": "on",
            "quiet_start": "21:00",
            "quiet_end": "06:30",
            "private_previews": "on",
        },
    )
    assert response.status_code == 302
    row = NotificationPreference.objects.get(user=user)
    assert row.channels["message"] == {"push": False, "email": True} and row.private_previews
    assert str(row.quiet_start) == "21:00:00" and NotificationPreference.objects.count() == 1


def test_bad_quiet_hours_are_shown_and_nothing_saved(manager):
    response = signed_in(manager).post("/admin/notification-preferences/", {"quiet_start": "9pm", "quiet_end": "06:00"})
    assert response.status_code == 400 and b"quiet_hours" in response.content
    assert not NotificationPreference.objects.exists()


def test_students_have_no_console(student):
    client = Client()
    client.login(email=student.email, password=PASSWORD)
    assert client.get("/admin/notification-preferences/").status_code == 302  # to the console's sign-in
