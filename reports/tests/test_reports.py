"""Report figures against data whose right answer is known."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import ConsultantFactory, StudentFactory
from appointments.models import Appointment
from leads.models import Activity, Lead
from leads.tests.factories import LeadFactory
from messaging.models import Message
from messaging.tests.factories import make_conversation, send

pytestmark = pytest.mark.django_db


def make_leads(office, consultant):
    now = timezone.now()
    specs = [
        ("new", "website", ""),
        ("contacted", "website", ""),
        ("qualified", "event", ""),
        ("converted", "referral", ""),
        ("converted", "walk_in", ""),
        ("lost", "event", "Too expensive"),
        ("lost", "social", "Too expensive"),
        ("lost", "event", "Went elsewhere"),
    ]
    for status, source, reason in specs:
        lead = LeadFactory(office=office, status=status, source=source, lost_reason=reason, assigned_to=consultant)
        if status == "converted":
            Lead.objects.filter(pk=lead.pk).update(
                created_at=now - timedelta(hours=10), converted_at=now - timedelta(hours=4)
            )


def test_leads_report(client_for, manager, office, consultant, other_office):
    make_leads(office, consultant)
    LeadFactory(office=other_office)  # another office: never counted for this manager
    body = client_for(manager).get("/api/v1/reports/leads").json()
    assert body["total"] == 8
    assert body["funnel"] == {"new": 1, "contacted": 1, "qualified": 1, "applied": 0, "converted": 2, "lost": 3}
    assert body["conversion_rate"] == 0.25
    assert body["average_hours_to_convert"] == 6.0
    assert body["by_source"]["event"] == 3 and body["by_source"]["other"] == 0
    assert body["by_lost_reason"] == [{"reason": "Too expensive", "count": 2}, {"reason": "Went elsewhere", "count": 1}]
    assert body["by_consultant"] == [
        {
            "consultant_id": consultant.id,
            "consultant": consultant.email,
            "consultant_name": consultant.full_name,
            "assigned": 8,
            "converted": 2,
        }
    ]


def test_csv_has_the_same_numbers(client_for, manager, office, consultant):
    make_leads(office, consultant)
    response = client_for(manager).get("/api/v1/reports/leads?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "key", "field", "value"]
    assert (
        ["total", "", "", "8"] in rows
        and ["funnel", "lost", "", "3"] in rows
        and ["conversion_rate", "", "", "0.25"] in rows
    )


def test_appointments_report(client_for, manager, office, consultant):
    now = timezone.now()
    for n, status in enumerate(["scheduled", "completed", "completed", "completed", "no_show", "cancelled"]):
        Appointment.objects.create(
            consultant=consultant,
            lead=LeadFactory(office=office),
            office=office,
            title="t",
            start=now - timedelta(days=1, hours=n),
            end=now - timedelta(days=1, hours=n) + timedelta(minutes=30),
            status=status,
        )
    body = client_for(manager).get("/api/v1/reports/appointments").json()
    assert body["total"] == 6
    assert body["by_status"] == {"scheduled": 1, "cancelled": 1, "completed": 3, "no_show": 1}
    assert body["no_show_rate"] == 0.25


def test_consultants_report_first_response(client_for, manager, office, consultant):
    student = StudentFactory(office=office)
    lead = LeadFactory(office=office, student=student, assigned_to=consultant, status="converted")
    conversation = make_conversation(consultant, student, office=office)
    conversation.lead = lead
    conversation.save()
    asked = send(student, conversation, "hello?")
    answer = send(consultant, conversation, "hi!")
    Message.objects.filter(pk=asked.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    Message.objects.filter(pk=answer.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    rows = client_for(manager).get("/api/v1/reports/consultants").json()["consultants"]
    row = next(r for r in rows if r["consultant_id"] == consultant.id)
    assert row["leads_assigned"] == 1 and row["leads_converted"] == 1 and row["conversion_rate"] == 1.0
    assert row["average_first_response_minutes"] == 20.0 and row["conversations_answered"] == 1


def test_messages_and_activity_reports(client_for, manager, office, consultant, receptionist):
    conversation = make_conversation(consultant, receptionist, office=office)
    first = send(consultant, conversation, "one")
    second = send(receptionist, conversation, "two")
    third = send(receptionist, conversation, "three")
    fourth = send(consultant, conversation, "four")
    base = timezone.now() - timedelta(hours=1)
    for message, minutes in ((first, 0), (second, 4), (third, 5), (fourth, 15)):
        Message.objects.filter(pk=message.pk).update(created_at=base + timedelta(minutes=minutes))
    body = client_for(manager).get("/api/v1/reports/messages").json()
    assert body["total"] == 4 and body["by_type"]["text"] == 4
    assert body["replies"] == 2 and body["median_response_minutes"] == 7.0  # answers after 4 and 10 minutes
    Activity.objects.create(lead=LeadFactory(office=office), actor=manager, kind="note", text="x")
    activity = client_for(manager).get("/api/v1/reports/activity").json()
    assert activity["active_users"] == 3


@pytest.mark.parametrize(
    "role, status",
    [("super_admin", 200), ("manager", 200), ("consultant", 403), ("receptionist", 403), ("student", 403)],
)
def test_reports_are_for_managers_and_super_admins(role, status, request, client_for):
    user = request.getfixturevalue(role)
    for name in ("leads", "appointments", "consultants", "messages", "activity"):
        assert client_for(user).get(f"/api/v1/reports/{name}").status_code == status


def test_manager_cannot_read_another_office(client_for, manager, other_office, super_admin, office, consultant):
    make_leads(office, consultant)
    assert client_for(manager).get(f"/api/v1/reports/leads?office={other_office.id}").status_code == 404
    assert client_for(super_admin).get(f"/api/v1/reports/leads?office={other_office.id}").json()["total"] == 0
    assert client_for(super_admin).get("/api/v1/reports/leads").json()["total"] == 8


@pytest.mark.parametrize(
    "query",
    [
        "date_from=2024-02-01&date_to=2024-01-01",
        "date_from=2020-01-01&date_to=2024-01-01",
        "date_from=yesterday",
        "office=abc",
        "format=pdf",
    ],
)
def test_bad_report_parameters(client_for, manager, query):
    assert client_for(manager).get(f"/api/v1/reports/leads?{query}").status_code == 400


@pytest.mark.parametrize(
    "name, queries", [("leads", 6), ("appointments", 3), ("consultants", 4), ("messages", 4), ("activity", 3)]
)
@pytest.mark.parametrize("size", [2, 6])
def test_report_query_counts_are_fixed(name, queries, size, client_for, manager, office, django_assert_num_queries):
    for _ in range(size):
        consultant = ConsultantFactory(office=office)
        make_leads(office, consultant)
    client = client_for(manager)
    with django_assert_num_queries(queries):  # the user, then the report's own aggregates
        assert client.get(f"/api/v1/reports/{name}").status_code == 200
