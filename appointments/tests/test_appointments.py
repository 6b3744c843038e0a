import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import ConsultantFactory, ReceptionistFactory, StudentFactory
from appointments import services
from appointments.models import Appointment
from conftest import access_token_for
from leads.models import Activity
from leads.tests.factories import LeadFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db

ROLES = ["super_admin", "manager", "consultant", "receptionist", "student"]


def at(hours, minutes=0):
    """10:00 UTC on a weekday two or more days ahead (within London's default opening hours, 09:00-17:00)."""
    base = (timezone.now() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    while base.weekday() >= 5:
        base += timedelta(days=1)
    return base + timedelta(hours=hours, minutes=minutes)


@pytest.fixture
def booked(office, consultant, student, receptionist):
    LeadFactory(office=office, student=student, assigned_to=consultant)
    return services.appointment_book(
        actor=receptionist, consultant=consultant, student=student, title="Intake", start=at(0), end=at(1)
    )


@pytest.fixture
def elsewhere(other_office, other_consultant):
    other_student = StudentFactory(office=other_office)
    return services.appointment_book(
        actor=other_consultant,
        consultant=other_consultant,
        student=other_student,
        title="Far away",
        start=at(0),
        end=at(1),
    )


READ = {
    "super_admin": (200, 200),
    "manager": (200, 404),
    "consultant": (200, 404),
    "receptionist": (200, 404),
    "student": (200, 404),
}
RESCHEDULE = {
    "super_admin": (200, 200),
    "manager": (200, 404),
    "consultant": (200, 404),
    "receptionist": (200, 404),
    "student": (403, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_reading_and_rescheduling(role, actors, client_for, booked, elsewhere):
    client = client_for(actors[role])
    for appointment, read, change in zip((booked, elsewhere), READ[role], RESCHEDULE[role], strict=True):
        assert client.get(f"/api/v1/appointments/{appointment.id}").status_code == read
        assert client.get(f"/api/v1/appointments/{appointment.id}/ics").status_code == read
        response = client.post(
            f"/api/v1/appointments/{appointment.id}/reschedule", {"start": at(3).isoformat(), "end": at(4).isoformat()}
        )
        assert response.status_code == change, response.content
    listed = {a["id"] for a in client.get("/api/v1/appointments").json()["results"]}
    assert listed == {a.id for a, read in zip((booked, elsewhere), READ[role], strict=True) if read == 200}


def test_representation_matches_the_spec(client_for, receptionist, booked):
    body = client_for(receptionist).get(f"/api/v1/appointments/{booked.id}").json()
    assert {
        "id",
        "consultant_id",
        "student_id",
        "lead_id",
        "office_id",
        "title",
        "start",
        "end",
        "status",
        "notes",
    } <= set(body)


def test_booking_over_rest_notifies_and_lands_on_the_timeline(client_for, receptionist, consultant, student, office):
    response = client_for(receptionist).post(
        "/api/v1/appointments",
        {
            "consultant_id": consultant.id,
            "student_id": student.id,
            "title": "Visa",
            "start": at(2).isoformat(),
            "end": at(3).isoformat(),
        },
    )
    assert response.status_code == 201 and response.json()["office_id"] == office.id
    assert set(Notification.objects.filter(kind="appointment_booked").values_list("recipient_id", flat=True)) == {
        consultant.id,
        student.id,
    }
    assert Activity.objects.filter(student=student, kind="appointment").exists()


def test_double_booking_is_a_409(client_for, receptionist, consultant, booked):
    lead = LeadFactory(office=consultant.office)
    response = client_for(receptionist).post(
        "/api/v1/appointments",
        {
            "consultant_id": consultant.id,
            "lead_id": lead.id,
            "title": "Overlap",
            "start": at(0, 30).isoformat(),
            "end": at(1, 30).isoformat(),
        },
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "slot_taken"
    back_to_back = client_for(receptionist).post(
        "/api/v1/appointments",
        {
            "consultant_id": consultant.id,
            "lead_id": lead.id,
            "title": "Next",
            "start": at(1).isoformat(),
            "end": at(2).isoformat(),
        },
    )
    assert back_to_back.status_code == 201


def test_cancelled_slots_free_up(client_for, receptionist, consultant, booked):
    client_for(receptionist).post(f"/api/v1/appointments/{booked.id}/cancel", {"reason": "Sick"})
    lead = LeadFactory(office=consultant.office)
    again = client_for(receptionist).post(
        "/api/v1/appointments",
        {
            "consultant_id": consultant.id,
            "lead_id": lead.id,
            "title": "Same slot",
            "start": at(0).isoformat(),
            "end": at(1).isoformat(),
        },
    )
    assert again.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_bookings_of_one_slot_give_one_success_and_one_409(office):
    consultant, receptionist = ConsultantFactory(office=office), ReceptionistFactory(office=office)
    leads = [LeadFactory(office=office) for _ in range(2)]
    token = access_token_for(receptionist)
    statuses, barrier = [], threading.Barrier(2)

    def book(lead):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        barrier.wait()
        try:
            statuses.append(
                client.post(
                    "/api/v1/appointments",
                    {
                        "consultant_id": consultant.id,
                        "lead_id": lead.id,
                        "title": "Race",
                        "start": at(5).isoformat(),
                        "end": at(6).isoformat(),
                    },
                    format="json",
                ).status_code
            )
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=book, args=(lead,)) for lead in leads]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(statuses) == [201, 409]
    assert Appointment.objects.filter(consultant=consultant).count() == 1


@pytest.mark.parametrize(
    "change, code",
    [
        ({"end": "START"}, "invalid_time_range"),
        ({"start": "PAST", "end": "PAST_END"}, "start_in_past"),
        ({"consultant_id": 999999}, "unknown_consultant"),
        ({"student_id": 999999}, "unknown_student"),
        ({"lead_id": 999999, "student_id": None}, "unknown_lead"),
        ({"consultant_id": "OTHER"}, "unknown_consultant"),  # another office's consultant: as unknown as no one
        ({"student_id": None}, "attendee_required"),
        ({"start": "2030-01-01T10:00:00"}, "validation_error"),
        ({"start": "tomorrow"}, "validation_error"),
        ({"start": "2030-01-01T12:99:00Z"}, "validation_error"),  # well formed, impossible: was a 500
    ],
)
def test_bad_bookings_are_clear_400s(change, code, client_for, receptionist, consultant, student, other_consultant):
    body = {
        "consultant_id": consultant.id,
        "student_id": student.id,
        "title": "T",
        "start": at(7).isoformat(),
        "end": at(8).isoformat(),
    }
    substitutions = {
        "START": body["start"],
        "PAST": (timezone.now() - timedelta(days=1)).isoformat(),
        "PAST_END": (timezone.now() - timedelta(hours=23)).isoformat(),
        "OTHER": other_consultant.id,
    }
    body.update({k: substitutions.get(v, v) if isinstance(v, str) else v for k, v in change.items()})
    response = client_for(receptionist).post("/api/v1/appointments", body)
    assert response.status_code == 400 and response.json()["error"]["code"] == code, response.content
    assert not Appointment.objects.exists()


def test_staff_book_for_the_students_they_may_see(client_for, receptionist, consultant, office, other_office):
    """The people a booking names are the ones the booker may see (as a document's owner): another
    office's student is unknown, nobody is notified; a student of the office's leads is found."""
    body = {"consultant_id": consultant.id, "title": "T", "start": at(3).isoformat(), "end": at(4).isoformat()}
    stranger = StudentFactory(office=other_office)
    response = client_for(receptionist).post("/api/v1/appointments", {**body, "student_id": stranger.id})
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_student"
    assert not Appointment.objects.exists() and not Notification.objects.filter(recipient=stranger).exists()
    website = StudentFactory(office=None)  # signed up on the website, now a lead of this office
    LeadFactory(office=office, student=website)
    assert client_for(receptionist).post("/api/v1/appointments", {**body, "student_id": website.id}).status_code == 201


def test_students_book_with_their_consultant_only(client_for, student, consultant, office):
    LeadFactory(office=office, student=student, assigned_to=consultant)
    stranger = ConsultantFactory(office=office)
    client = client_for(student)
    ok = client.post(
        "/api/v1/appointments",
        {"consultant_id": consultant.id, "title": "Mine", "start": at(4).isoformat(), "end": at(5).isoformat()},
    )
    assert ok.status_code == 201 and ok.json()["student_id"] == student.id
    refused = client.post(
        "/api/v1/appointments",
        {"consultant_id": stranger.id, "title": "No", "start": at(4).isoformat(), "end": at(5).isoformat()},
    )
    assert refused.json()["error"]["code"] == "unknown_consultant"  # not theirs to see
    assert (
        client.post(f"/api/v1/appointments/{ok.json()['id']}/cancel", {"reason": "Exam"}).json()["status"]
        == "cancelled"
    )


def test_reschedule_keeps_history_and_notifies(client_for, receptionist, booked, student):
    client_for(receptionist).post(
        f"/api/v1/appointments/{booked.id}/reschedule",
        {"start": at(4).isoformat(), "end": at(5).isoformat(), "reason": "Traffic"},
    )
    entry = Activity.objects.filter(kind="appointment", text__startswith="Appointment rescheduled").get()
    assert entry.data["reason"] == "Traffic" and entry.data["from"][0] == at(0).isoformat()
    assert Notification.objects.filter(recipient=student, kind="appointment_rescheduled").exists()


def test_outcomes_only_after_the_start(client_for, consultant, booked):
    early = client_for(consultant).patch(f"/api/v1/appointments/{booked.id}", {"status": "completed"})
    assert early.json()["error"]["code"] == "not_started"
    Appointment.objects.filter(pk=booked.pk).update(start=timezone.now() - timedelta(hours=1), end=timezone.now())
    assert (
        client_for(consultant).patch(f"/api/v1/appointments/{booked.id}", {"status": "no_show"}).json()["status"]
        == "no_show"
    )
    assert client_for(consultant).patch(f"/api/v1/appointments/{booked.id}", {"status": "cancelled"}).status_code == 400


def test_availability_within_office_hours(client_for, receptionist, consultant, booked, office):
    day = at(0).astimezone(office.tzinfo).date()
    body = (
        client_for(receptionist)
        .get(f"/api/v1/appointments/availability?consultant_id={consultant.id}&date={day}")
        .json()
    )
    starts = [slot["start"] for slot in body["results"]]
    assert len(starts) == 16 - 2  # 09:00-17:00 in 30-minute slots, minus the booked hour
    assert at(0).astimezone(office.tzinfo).isoformat() not in starts
    assert (
        client_for(receptionist)
        .get(f"/api/v1/appointments/availability?consultant_id={consultant.id}&date=soon")
        .status_code
        == 400
    )


def test_ics_download(client_for, student, booked):
    response = client_for(student).get(f"/api/v1/appointments/{booked.id}/ics")
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert "BEGIN:VEVENT" in text and "SUMMARY:Intake" in text and f"appointment-{booked.id}@crm" in text


def test_reminders_are_sent_once(booked, consultant, student, settings):
    settings.APPOINTMENT_REMINDER_MINUTES = 60 * 24 * 7  # at() may skip a weekend: up to five days ahead
    call_command("send_appointment_reminders")
    call_command("send_appointment_reminders")
    reminded = Notification.objects.filter(kind="appointment_reminder")
    assert sorted(reminded.values_list("recipient_id", flat=True)) == sorted([consultant.id, student.id])


@pytest.mark.django_db(transaction=True)
def test_overlapping_reminder_runs_never_remind_twice(office, settings):
    settings.APPOINTMENT_REMINDER_MINUTES = 60 * 24 * 7  # at() may skip a weekend: up to five days ahead
    consultant, receptionist = ConsultantFactory(office=office), ReceptionistFactory(office=office)
    for hour in range(5):
        services.appointment_book(
            actor=receptionist,
            consultant=consultant,
            lead=LeadFactory(office=office),
            title=f"A{hour}",
            start=at(hour),
            end=at(hour, 30),
        )
    barrier = threading.Barrier(3)

    def run():
        barrier.wait()
        try:
            services.reminders_send()
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert Notification.objects.filter(kind="appointment_reminder").count() == 5


@pytest.mark.parametrize("rows", [3, 15])
def test_appointment_list_query_count_is_fixed(
    rows, client_for, receptionist, consultant, office, django_assert_num_queries
):
    for n in range(rows):
        services.appointment_book(
            actor=receptionist,
            consultant=consultant,
            lead=LeadFactory(office=office),
            title=f"A{n}",
            start=at(n),
            end=at(n, 30),
            allow_outside_hours=True,
        )
    client = client_for(receptionist)
    with django_assert_num_queries(2):
        response = client.get("/api/v1/appointments?limit=100")
    assert len(response.json()["results"]) == rows


CANCEL = {
    "super_admin": (200, 200),
    "manager": (200, 404),
    "consultant": (200, 404),
    "receptionist": (200, 404),
    "student": (200, 404),
}
OUTCOME = {
    "super_admin": (200, 200),
    "manager": (200, 404),
    "consultant": (200, 404),
    "receptionist": (200, 404),
    "student": (403, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_cancelling_and_recording_outcomes(role, actors, client_for, booked, elsewhere):
    client = client_for(actors[role])
    for appointment, expected in zip((booked, elsewhere), OUTCOME[role], strict=True):
        Appointment.objects.filter(pk=appointment.pk).update(
            start=timezone.now() - timedelta(hours=1), end=timezone.now()
        )
        assert client.patch(f"/api/v1/appointments/{appointment.id}", {"status": "completed"}).status_code == expected
        Appointment.objects.filter(pk=appointment.pk).update(status="scheduled", start=at(0), end=at(1))
    for appointment, expected in zip((booked, elsewhere), CANCEL[role], strict=True):
        assert client.post(f"/api/v1/appointments/{appointment.id}/cancel", {"reason": "x"}).status_code == expected


@pytest.mark.parametrize(
    "role, status",
    [("super_admin", 200), ("manager", 200), ("consultant", 200), ("receptionist", 200), ("student", 200)],
)
def test_availability_visibility(role, status, actors, client_for, consultant, other_consultant, office, student):
    LeadFactory(office=office, student=student, assigned_to=consultant)
    client = client_for(actors[role])
    day = at(0).date().isoformat()
    assert (
        client.get(f"/api/v1/appointments/availability?consultant_id={consultant.id}&date={day}").status_code == status
    )
    other = client.get(f"/api/v1/appointments/availability?consultant_id={other_consultant.id}&date={day}").status_code
    assert other == (200 if role == "super_admin" else 404)
