"""Notifications reach phones, browsers and mailboxes through a real Celery worker, a Web Push service
that decrypts and checks signatures, FCM and APNs stand-ins answering as the providers do, and an SMTP
server. Whatever area creates the notification (the service is the one path)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from accounts.tests.factories import StudentFactory
from devices.models import Device, DeviceKind
from devices.tests.standins import wait_for
from notifications.models import Delivery, NotificationPreference
from notifications.services import notifications_create
from notifications.tasks import deliver_notifications

pytestmark = pytest.mark.django_db(transaction=True)


def register(client_for, user, parts, name):
    response = client_for(user).post(
        "/api/v1/devices", {"kind": "webpush", "subscription": parts.webpush.subscription(name)}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_one_notification_reaches_every_device_and_the_mailbox_once(worker, push_parts, client_for, student):
    register(client_for, student, push_parts, "laptop")
    Device.objects.create(user=student, kind=DeviceKind.FCM, token="android-token-1")
    Device.objects.create(user=student, kind=DeviceKind.APNS, token="a1b2c3")

    [notification] = notifications_create(
        recipients=[student],
        kind="appointment_booked",
        title="Appointment booked",
        body="Visa interview, Mon 7 Dec 10:00",
        data={"appointment_id": 41},
    )

    [push] = wait_for(lambda: push_parts.webpush.for_("laptop"))
    assert push["plaintext"]["title"] == "Appointment booked"
    assert push["plaintext"]["body"] == "Visa interview, Mon 7 Dec 10:00"
    assert push["plaintext"]["data"] == {
        "appointment_id": "41",
        "notification_id": str(notification.pk),
        "kind": "appointment_booked",
    }
    assert push["headers"]["topic"] == f"notification-{notification.pk}"
    [fcm] = wait_for(lambda: push_parts.fcm.sent)
    assert fcm["token"] == "android-token-1" and fcm["notification"]["title"] == "Appointment booked"
    assert fcm["data"]["appointment_id"] == "41"
    [apns] = wait_for(lambda: push_parts.apns.sent)
    assert apns["token"] == "a1b2c3" and apns["payload"]["aps"]["alert"]["title"] == "Appointment booked"
    [mail] = wait_for(lambda: push_parts.smtp.messages)
    assert mail["To"] == student.email and mail["Subject"] == "Appointment booked"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Visa interview" in text and "Visa interview" in html and student.office.name in text

    # Run the same job again (a retry, a second worker): nothing is sent twice.

    deliver_notifications.delay([notification.pk])
    worker.settled()
    assert len(push_parts.webpush.received) == len(push_parts.fcm.sent) == len(push_parts.apns.sent) == 1
    assert len(push_parts.smtp.messages) == 1


def test_dead_tokens_are_deleted_and_throttled_sends_retried_once(worker, push_parts, client_for, student):
    register(client_for, student, push_parts, "gone")
    push_parts.webpush.answers["gone"] = [410]
    register(client_for, student, push_parts, "busy")
    push_parts.webpush.answers["busy"] = [429]
    Device.objects.create(user=student, kind=DeviceKind.FCM, token="dead-android")
    Device.objects.create(user=student, kind=DeviceKind.FCM, token="throttled-android")
    Device.objects.create(user=student, kind=DeviceKind.APNS, token="dead-iphone")
    Device.objects.create(user=student, kind=DeviceKind.APNS, token="throttled-iphone")

    notifications_create(recipients=[student], kind="document_reviewed", title="Passport approved")

    assert wait_for(lambda: len(push_parts.webpush.for_("busy")) == 1, timeout=30)
    assert wait_for(lambda: len(push_parts.fcm.sent) == 1 and len(push_parts.apns.sent) == 1, timeout=30)
    assert sorted(Device.objects.filter(user=student).values_list("token", flat=True)) == sorted(
        ["throttled-android", "throttled-iphone", push_parts.webpush.subscription_endpoint("busy")]
    )
    worker.settled()
    assert len(push_parts.webpush.for_("busy")) == 1 and push_parts.webpush.for_("gone") == []
    assert [m["token"] for m in push_parts.fcm.sent] == ["throttled-android"]
    assert [m["token"] for m in push_parts.apns.sent] == ["throttled-iphone"]


def test_preferences_decide_push_and_email(worker, push_parts, client_for, student):
    register(client_for, student, push_parts, "phone")
    client = client_for(student)
    assert (
        client.patch(
            "/api/v1/notification-preferences",
            {"appointment": {"push": False}, "document": {"email": False}},
            format="json",
        ).status_code
        == 200
    )

    notifications_create(recipients=[student], kind="appointment_cancelled", title="Appointment cancelled")
    notifications_create(recipients=[student], kind="document_reviewed", title="Transcript approved")

    assert [p["plaintext"]["title"] for p in wait_for(lambda: push_parts.webpush.for_("phone"))] == [
        "Transcript approved"
    ]
    assert [m["Subject"] for m in wait_for(lambda: push_parts.smtp.messages)] == ["Appointment cancelled"]
    worker.settled()
    assert len(push_parts.webpush.received) == len(push_parts.smtp.messages) == 1


def test_quiet_hours_hold_pushes_in_the_users_time_zone_but_not_email(worker, push_parts, client_for, student):
    register(client_for, student, push_parts, "phone")
    client_for(student).patch(
        "/api/v1/notification-preferences",
        {"quiet_hours": {"start": "22:00", "end": "07:00"}, "timezone": "Asia/Kolkata"},
        format="json",
    )
    # 17:00 UTC is 22:30 in Kolkata: quiet there, whatever the office's time zone says.
    with time_machine.travel(dt.datetime(2026, 12, 7, 17, 0, tzinfo=dt.UTC), tick=True):
        notifications_create(recipients=[student], kind="appointment_booked", title="Booked at night")
        assert wait_for(lambda: push_parts.smtp.messages)
        worker.settled()
        assert push_parts.webpush.received == []
    # 02:00 UTC is 07:30 there: pushes again.
    with time_machine.travel(dt.datetime(2026, 12, 8, 2, 0, tzinfo=dt.UTC), tick=True):
        notifications_create(recipients=[student], kind="appointment_booked", title="Booked in the morning")
        assert [p["plaintext"]["title"] for p in wait_for(lambda: push_parts.webpush.received)] == [
            "Booked in the morning"
        ]


def test_private_previews_keep_the_body_off_the_lock_screen(worker, push_parts, client_for, student):
    register(client_for, student, push_parts, "phone")
    NotificationPreference.objects.create(user=student, private_previews=True)
    notifications_create(
        recipients=[student], kind="document_reviewed", title="Document reviewed", body="Rejected: blurry"
    )
    [push] = wait_for(lambda: push_parts.webpush.received)
    assert push["plaintext"]["title"] == "Document reviewed" and push["plaintext"]["body"] == ""


@pytest.mark.parametrize("kind", ["application", "application_status_changed", "task_due"])
def test_kinds_of_areas_built_later_push_by_their_category(worker, push_parts, client_for, consultant, kind):
    """Applications (issue 21) and tasks create notifications through the same service: they are pushed
    by the `application` and `task` preferences with no code of their own here."""
    register(client_for, consultant, push_parts, "console")
    notifications_create(recipients=[consultant], kind=kind, title="Offer received", data={"application_id": 9})
    [push] = wait_for(lambda: push_parts.webpush.received)
    assert push["plaintext"]["data"]["application_id"] == "9"
    category = kind.split("_")[0]
    client_for(consultant).patch("/api/v1/notification-preferences", {category: {"push": False}}, format="json")
    notifications_create(recipients=[consultant], kind=kind, title="Second")
    worker.settled()
    assert len(push_parts.webpush.received) == 1


def test_an_announcement_reaches_offline_people_by_push(worker, push_parts, client_for, super_admin, office):
    people = [StudentFactory(office=office) for _ in range(3)]
    for index, person in enumerate(people):
        register(client_for, person, push_parts, f"s{index}")
    response = client_for(super_admin).post("/api/v1/announcements", {"title": "Offices closed Friday"}, format="json")
    assert response.status_code == 201
    assert wait_for(lambda: len(push_parts.webpush.received) == 3)
    assert {p["plaintext"]["title"] for p in push_parts.webpush.received} == {"Offices closed Friday"}


def test_the_one_click_unsubscribe_turns_that_email_off(worker, push_parts, student):
    notifications_create(recipients=[student], kind="appointment_booked", title="Booked")
    [mail] = wait_for(lambda: push_parts.smtp.messages)
    url = mail["List-Unsubscribe"].strip("<>")
    path = url.split("://", 1)[1].split("/", 1)[1]
    client = Client()
    assert client.get(f"/{path}").status_code == 200  # a mail scanner's GET changes nothing
    assert NotificationPreference.objects.filter(user=student).count() == 0
    assert client.post(f"/{path}", {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert NotificationPreference.objects.get(user=student).channels == {"appointment": {"email": False}}
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert client.post(f"/{tampered}").status_code == 404
    notifications_create(recipients=[student], kind="appointment_booked", title="Again")
    worker.settled()
    assert len(push_parts.smtp.messages) == 1
    assert Delivery.objects.filter(key__startswith="email:").count() == 1
