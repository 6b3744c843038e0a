"""The console calendar: one office per page in its time zone, its events feed from the appointment
selector, and every other office, consultant or lead out of reach (404)."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import PASSWORD, ConsultantFactory, StudentFactory
from appointments.models import Appointment
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
CALENDAR = "/admin/appointments/appointment/calendar/"
EVENTS = "/admin/appointments/appointment/calendar/events"
WEEK = {"start": "2030-01-07T00:00:00+11:00", "end": "2030-01-14T00:00:00+11:00"}


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)
    return client


def at(day, hour, office):
    return datetime(2030, 1, day, hour, tzinfo=ZoneInfo(office.timezone))


def book(office, consultant, start, **kwargs):
    return Appointment.objects.create(
        office=office,
        consultant=consultant,
        title=kwargs.pop("title", "Review"),
        start=start,
        end=start + timedelta(minutes=30),
        **kwargs,
    )


@pytest.fixture
def sydney(office):
    office.timezone = "Australia/Sydney"
    office.save()
    return office


def test_the_page_is_the_office_in_its_time_zone(client, receptionist, consultant, sydney):
    page = login(client, receptionist).get(CALENDAR)
    config = page.context["config"]
    assert config["office"]["timezone"] == "Australia/Sydney" and config["may_book"] is True
    assert config["office"]["locale"] == "en-GB"  # (the office's country: GB by default in the tests' factory)
    assert config["consultants"] == [{"id": consultant.pk, "name": consultant.full_name, "colour": "#1f5f99"}]
    body = page.content.decode()
    assert "vendor/fullcalendar/fullcalendar.global.min.js" in body and "vendor/luxon/luxon.min.js" in body
    assert not re.search(r'<(?:script|link)\b[^>]*\b(?:src|href)="(?:https?:)?//', body)  # nothing from another site


def test_a_walk_in_arrives_ready_to_book(client, receptionist, consultant, office):
    lead = LeadFactory(office=office, first_name="Walk", last_name="In")
    config = login(client, receptionist).get(f"{CALENDAR}?lead={lead.pk}&consultant={consultant.pk}").context["config"]
    assert config["lead"] == {"id": lead.pk, "name": "Walk In", "student_id": None}
    assert config["consultant_id"] == consultant.pk


def test_events_are_the_offices_appointments_with_names(client, manager, consultant, sydney, other_consultant):
    student = StudentFactory(office=sydney, first_name="Stu", last_name="Dent")
    lead = LeadFactory(office=sydney, first_name="Lea", last_name="Dee")
    booked = book(sydney, consultant, at(8, 10, sydney), student=student)
    book(sydney, consultant, at(9, 10, sydney), lead=lead, title="Intake")
    book(sydney, consultant, at(10, 10, sydney), lead=lead, status="cancelled")
    book(sydney, consultant, at(20, 10, sydney), lead=lead)  # outside the week
    book(other_consultant.office, other_consultant, at(8, 10, sydney), lead=LeadFactory(office=other_consultant.office))
    events = login(client, manager).get(EVENTS, WEEK).json()
    assert [e["title"] for e in events] == ["Stu Dent: Review", "Lea Dee: Intake"]
    first = events[0]
    assert first["id"] == str(booked.pk) and first["extendedProps"]["consultant"] == consultant.full_name
    assert first["start"] == "2030-01-07T23:00:00+00:00" and first["editable"] is True


def test_a_consultant_sees_their_own_calendar_only(client, consultant, office):
    other = ConsultantFactory(office=office)
    lead = LeadFactory(office=office)
    mine = book(office, consultant, at(8, 10, office), lead=lead)
    book(office, other, at(8, 10, office), lead=lead)
    login(client, consultant)
    assert [e["id"] for e in client.get(EVENTS, WEEK).json()] == [str(mine.pk)]
    assert client.get(f"{CALENDAR}?consultant={other.pk}").status_code == 404
    assert client.get(CALENDAR).context["config"]["consultant_id"] == consultant.pk


def test_other_offices_consultants_and_leads_are_404(client, manager, other_office, other_consultant):
    login(client, manager)
    theirs = LeadFactory(office=other_office)
    assert client.get(f"{CALENDAR}?office={other_office.pk}").status_code == 404
    assert client.get(f"{CALENDAR}?consultant={other_consultant.pk}").status_code == 404
    assert client.get(f"{CALENDAR}?lead={theirs.pk}").status_code == 404
    assert client.get(EVENTS, {**WEEK, "office": other_office.pk}).status_code == 404
    assert client.get(EVENTS, {**WEEK, "consultant": other_consultant.pk}).status_code == 404


def test_super_admin_switches_offices(client, super_admin, office, other_office, other_consultant):
    login(client, super_admin)
    assert client.get(CALENDAR).context["office"] == office  # the first office, by name
    page = client.get(f"{CALENDAR}?office={other_office.pk}&consultant={other_consultant.pk}")
    assert page.context["office"] == other_office and page.context["config"]["consultant_id"] == other_consultant.pk


def test_bad_ranges_are_clear_errors(client, manager):
    login(client, manager)
    for params in (
        {},
        {"start": "yesterday", "end": "today"},
        {"start": WEEK["end"], "end": WEEK["start"]},
        {"start": "2030-01-01T00:00:00Z", "end": "2030-06-01T00:00:00Z"},
    ):
        response = client.get(EVENTS, params)
        assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error", params


def test_calendar_pages_run_a_fixed_number_of_queries(client, manager, consultant, office):
    def more(day):
        book(office, consultant, at(day, 9, office), lead=LeadFactory(office=office))
        book(office, consultant, at(day, 11, office), student=StudentFactory(office=office))

    def count(path, params=None):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path, params or {}).status_code == 200
        return len(captured)

    login(client, manager)
    for day in (7, 8, 9):
        more(day)
    page, feed = count(CALENDAR), count(EVENTS, WEEK)
    for day in (10, 11, 12):
        more(day)
    assert len(client.get(EVENTS, WEEK).json()) == 12
    assert (count(CALENDAR), count(EVENTS, WEEK)) == (page, feed) == (7, 6)
