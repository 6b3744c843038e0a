"""Offices' opening hours in bookings, free slots and the calendar (issue 25, item 2): students are
refused outside them, staff are warned (409) and may book anyway; free slots follow the weekdays and
closed dates; a walk-in booked with a consultant becomes their lead (item 8)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from accounts.tests.factories import ConsultantFactory
from appointments import services
from appointments.models import Appointment
from leads.models import Activity
from leads.tests.factories import LeadFactory
from offices.models import ClosedDay, OpeningHours

pytestmark = pytest.mark.django_db

# Monday 10 March 2031, 08:00 in London (GMT): the week ahead is bookable.
MONDAY = datetime(2031, 3, 10, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(MONDAY, tick=False):
        yield


@pytest.fixture
def week(office):
    """London: weekdays 09:00-19:00, Saturday 10:00-13:00, Sunday closed; closed on Friday the 14th."""
    OpeningHours.objects.bulk_create(
        [OpeningHours(office=office, weekday=d, opens_at=time(9), closes_at=time(19)) for d in range(1, 6)]
        + [OpeningHours(office=office, weekday=6, opens_at=time(10), closes_at=time(13))]
    )
    ClosedDay.objects.create(office=office, date=date(2031, 3, 14), reason="Staff training")
    return office


def london(day, hour, minute=0):
    return datetime(2031, 3, day, hour, minute, tzinfo=UTC)  # (GMT until the 30th)


def body(consultant, start, minutes=30, **extra):
    return {
        "consultant_id": consultant.pk,
        "title": "Consultation",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
        **extra,
    }


def test_a_student_cannot_book_when_the_office_is_closed(client_for, week, consultant, student):
    LeadFactory(office=week, student=student, assigned_to=consultant)
    client = client_for(student)
    for start in (london(10, 19, 30), london(10, 8, 30), london(10, 18, 45), london(14, 11), london(16, 11)):
        refused = client.post("/api/v1/appointments", body(consultant, start), format="json")
        assert refused.status_code == 409, start
        error = refused.json()["error"]
        assert error["code"] == "outside_opening_hours" and error["details"]["may_override"] is False
        assert (
            client.post(
                "/api/v1/appointments", body(consultant, start, allow_outside_hours=True), format="json"
            ).status_code
            == 409
        )  # the flag is staff's
    assert not Appointment.objects.exists()
    assert client.post("/api/v1/appointments", body(consultant, london(15, 12, 30)), format="json").status_code == 201


@pytest.mark.parametrize("role", ["receptionist", "manager", "consultant", "super_admin"])
def test_staff_are_warned_and_may_book_anyway(role, actors, client_for, week, consultant):
    client = client_for(actors[role])
    lead = LeadFactory(office=week, assigned_to=consultant)
    evening = body(consultant, london(10, 19, 30), lead_id=lead.pk)
    warned = client.post("/api/v1/appointments", evening, format="json")
    assert warned.status_code == 409
    error = warned.json()["error"]
    assert error["details"] == {"date": "2031-03-10", "opening_hours": "09:00–19:00", "may_override": True}
    assert "Book anyway" in error["message"] and not Appointment.objects.exists()
    booked = client.post("/api/v1/appointments", {**evening, "allow_outside_hours": True}, format="json")
    assert booked.status_code == 201 and booked.json()["start"] == "2031-03-10T19:30:00Z"


def test_closed_dates_and_weekdays_explain_themselves(client_for, receptionist, week, consultant):
    lead = LeadFactory(office=week, assigned_to=consultant)
    client = client_for(receptionist)
    friday = client.post("/api/v1/appointments", body(consultant, london(14, 11), lead_id=lead.pk), format="json")
    assert friday.json()["error"]["details"]["opening_hours"] == "Staff training"
    sunday = client.post("/api/v1/appointments", body(consultant, london(16, 11), lead_id=lead.pk), format="json")
    assert sunday.json()["error"]["details"]["opening_hours"] == "Closed on Sundays"


def test_rescheduling_keeps_to_the_hours_too(client_for, receptionist, week, consultant):
    lead = LeadFactory(office=week, assigned_to=consultant)
    appointment = services.appointment_book(
        actor=receptionist, consultant=consultant, lead=lead, title="T", start=london(11, 10), end=london(11, 11)
    )
    client = client_for(receptionist)
    late = {"start": london(11, 18, 30).isoformat(), "end": london(11, 19, 30).isoformat()}
    assert client.post(f"/api/v1/appointments/{appointment.pk}/reschedule", late).status_code == 409
    moved = client.post(f"/api/v1/appointments/{appointment.pk}/reschedule", {**late, "allow_outside_hours": True})
    assert moved.status_code == 200 and moved.json()["end"] == "2031-03-11T19:30:00Z"


def test_free_slots_follow_the_week_and_the_closed_days(client_for, receptionist, week, consultant):
    services.appointment_book(
        actor=receptionist,
        consultant=consultant,
        lead=LeadFactory(office=week),
        title="T",
        start=london(11, 9),
        end=london(11, 10),
    )
    client = client_for(receptionist)

    def starts(day):
        page = client.get(f"/api/v1/appointments/availability?consultant_id={consultant.pk}&date={day}").json()
        return [slot["start"][11:16] for slot in page["results"]]

    assert starts("2031-03-10")[:2] == ["09:00", "09:30"] and starts("2031-03-10")[-1] == "18:30"
    assert len(starts("2031-03-10")) == 20 and starts("2031-03-11")[0] == "10:00"  # booked 09:00-10:00
    assert starts("2031-03-14") == [] and starts("2031-03-16") == []  # closed date, closed weekday
    assert starts("2031-03-15") == ["10:00", "10:30", "11:00", "11:30", "12:00", "12:30"]


def test_free_slots_of_several_consultants_at_once(client_for, receptionist, week, consultant):
    colleague = ConsultantFactory(office=week, first_name="Cora")
    services.appointment_book(
        actor=receptionist,
        consultant=colleague,
        lead=LeadFactory(office=week),
        title="T",
        start=london(15, 10),
        end=london(15, 12),
    )
    page = client_for(receptionist).get(
        f"/api/v1/appointments/free-slots?consultant_ids={consultant.pk},{colleague.pk}"
        "&date_from=2031-03-14&date_to=2031-03-16"
    )
    assert page.status_code == 200
    slots = page.json()["results"]
    assert {(s["consultant_id"], s["start"][11:16]) for s in slots} == {
        *((consultant.pk, t) for t in ("10:00", "10:30", "11:00", "11:30", "12:00", "12:30")),
        (colleague.pk, "12:00"),
        (colleague.pk, "12:30"),
    }


@pytest.mark.parametrize(
    "query, status, code",
    [
        ("consultant_ids=OTHER&date_from=2031-03-10&date_to=2031-03-10", 404, "not_found"),
        ("consultant_ids=MINE,OTHER&date_from=2031-03-10&date_to=2031-03-10", 404, "not_found"),
        ("consultant_ids=999999&date_from=2031-03-10&date_to=2031-03-10", 404, "not_found"),
        ("consultant_ids=a,b&date_from=2031-03-10&date_to=2031-03-10", 400, "validation_error"),
        ("consultant_ids=&date_from=2031-03-10&date_to=2031-03-10", 400, "validation_error"),
        ("consultant_ids=MINE&date_from=2031-03-10&date_to=2031-03-09", 400, "invalid_date_range"),
        ("consultant_ids=MINE&date_from=2031-03-01&date_to=2031-05-01", 400, "invalid_date_range"),
        ("consultant_ids=MINE&date_from=soon&date_to=2031-03-10", 400, "validation_error"),
        ("consultant_ids=MINE&date_from=2031-03-10", 400, "validation_error"),
        ("consultant_ids=99999999999999999999999&date_from=2031-03-10&date_to=2031-03-10", 400, "validation_error"),
        (
            f"consultant_ids={','.join(str(n) for n in range(1, 52))}&date_from=2031-03-10&date_to=2031-03-10",
            400,
            "too_many_consultants",
        ),
    ],
)
def test_free_slots_refuse_what_is_hidden_or_malformed(
    query, status, code, client_for, receptionist, consultant, other_consultant
):
    query = query.replace("MINE", str(consultant.pk)).replace("OTHER", str(other_consultant.pk))
    response = client_for(receptionist).get(f"/api/v1/appointments/free-slots?{query}")
    assert response.status_code == status and response.json()["error"]["code"] == code


@pytest.mark.parametrize("role, status", [("student", 404), ("consultant", 404), ("manager", 200)])
def test_free_slots_per_role(role, status, actors, client_for, consultant):
    colleague = ConsultantFactory(office=consultant.office)
    query = f"consultant_ids={colleague.pk}&date_from=2031-03-10&date_to=2031-03-10"
    assert client_for(actors[role]).get(f"/api/v1/appointments/free-slots?{query}").status_code == status


@pytest.mark.parametrize("days", [1, 7])
def test_free_slots_of_many_consultants_run_a_fixed_number_of_queries(
    days, client_for, receptionist, office, django_assert_num_queries
):
    consultants = ConsultantFactory.create_batch(4, office=office)
    query = f"consultant_ids={','.join(str(c.pk) for c in consultants)}&date_from=2031-03-10&date_to=2031-03-{9 + days}"
    client = client_for(receptionist)
    with django_assert_num_queries(5):  # user, consultants, the office's week and its closed days, bookings
        assert client.get(f"/api/v1/appointments/free-slots?{query}").status_code == 200


def test_booking_a_walk_in_makes_them_the_consultants_lead(client_for, receptionist, week, consultant):
    walk_in = LeadFactory(office=week, first_name="Kim", last_name="Parent", source="walk_in")
    response = client_for(receptionist).post(
        "/api/v1/appointments", body(consultant, london(11, 10), lead_id=walk_in.pk), format="json"
    )
    assert response.status_code == 201
    walk_in.refresh_from_db()
    assert walk_in.assigned_to == consultant
    assigned = Activity.objects.get(lead=walk_in, kind="assigned")
    assert assigned.actor == receptionist and "booked with them" in assigned.text
    # a lead that has a consultant keeps them
    theirs = LeadFactory(office=week, assigned_to=ConsultantFactory(office=week))
    services.appointment_book(
        actor=receptionist, consultant=consultant, lead=theirs, title="T", start=london(12, 10), end=london(12, 11)
    )
    theirs.refresh_from_db()
    assert theirs.assigned_to != consultant
