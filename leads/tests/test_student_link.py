"""The student link is the office's rule (issue 20, item 1): a lead reaches its student account only
when the student has no office yet or belongs to the lead's office. A lead made with another office's
student's email is not linked (and the answer is the one an unknown email gets), and a link that does
not count (made before the rule, or left behind when the student moved office) opens no door: not
documents, appointments, contacts, conversations, monitoring, nor assignment's conversation.

London staff (every role that could use a lead) against a Toronto student."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from accounts.selectors import leads_reaching_q, linked_leads_q
from accounts.tests.factories import ConsultantFactory, StudentFactory
from appointments.models import Appointment
from documents.models import Document
from documents.services import document_upload
from leads.models import Lead
from leads.services import lead_create
from leads.tests.factories import LeadFactory
from messaging.models import Conversation
from messaging.services import conversation_ensure_direct, message_send
from notifications.models import Notification
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
LONDON_ROLES = ["receptionist", "consultant", "manager"]
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday morning; bookings are made two days on


def pdf(name="passport.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def toronto(db):
    return OfficeFactory(name="Toronto")


@pytest.fixture
def tara(toronto):
    """A Toronto student with her Toronto lead, consultant, document and conversation."""
    student = StudentFactory(office=toronto, email="tara@toronto.example.com")
    consultant = ConsultantFactory(office=toronto)
    lead = LeadFactory(office=toronto, email=student.email, student=student, assigned_to=consultant)
    student.document = document_upload(actor=student, file=pdf(), kind="passport", student=student)
    student.conversation = conversation_ensure_direct(user_a=student, user_b=consultant, office=toronto, lead=lead)
    message_send(sender=student, conversation=student.conversation, content="My visa question")
    return student


@pytest.fixture
def london(actors):
    return {role: actors[role] for role in LONDON_ROLES}


@pytest.fixture
def stale_link(office, consultant, tara):
    """A London lead pointing at the Toronto student: what the old rule made from her email (or a link
    left behind when a student moves office)."""
    return LeadFactory(office=office, email=tara.email, student=tara, assigned_to=consultant)


# --- the link is made within the lead's office only ---------------------------------------------


@pytest.mark.parametrize("role", ["receptionist", "manager", "super_admin"])
def test_a_lead_with_another_offices_students_email_is_not_linked_and_looks_like_an_unknown_email(
    role, actors, client_for, office, tara
):
    client = client_for(actors[role])
    body = {"first_name": "Probe", "office_id": office.id} if role == "super_admin" else {"first_name": "Probe"}
    probe = client.post("/api/v1/leads", {**body, "email": tara.email})
    unknown = client.post("/api/v1/leads", {**body, "email": "nobody@example.com"})
    assert probe.status_code == unknown.status_code == 201
    assert probe.json()["student_id"] is None

    def shape(answer):
        return {k: v for k, v in answer.json().items() if k not in ("id", "email", "created_at", "updated_at")}

    assert shape(probe) == shape(unknown)
    assert Lead.objects.get(pk=probe.json()["id"]).student_id is None
    # an email typed in later is no different
    if role != "receptionist":  # (receptionists do not edit leads)
        edited = client.patch(
            f"/api/v1/leads/{unknown.json()['id']}", {"email": tara.email.upper(), "confirm_duplicate": True}
        )
        assert edited.status_code == 200 and edited.json()["student_id"] is None
        assert Lead.objects.get(pk=unknown.json()["id"]).student_id is None


def test_a_students_email_still_links_within_the_office(client_for, receptionist, office, toronto):
    mine = StudentFactory(office=office, email="mine@example.com")
    StudentFactory(office=toronto, email="theirs@example.com")
    assert (
        client_for(receptionist).post("/api/v1/leads", {"first_name": "M", "email": mine.email}).json()["student_id"]
        == mine.id
    )
    assert lead_create(actor=receptionist, first_name="T", email="theirs@example.com").student_id is None


def test_converting_a_lead_with_another_offices_students_email_takes_nothing_over(client_for, manager, office, tara):
    lead = LeadFactory(office=office, email=tara.email)
    refused = client_for(manager).post(f"/api/v1/leads/{lead.id}/convert")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "email_taken"
    staff = client_for(manager).post(f"/api/v1/leads/{LeadFactory(office=office, email=manager.email).id}/convert")
    assert staff.json()["error"] == refused.json()["error"]  # a staff email gets the very same answer
    tara.refresh_from_db()
    lead.refresh_from_db()
    assert tara.office.name == "Toronto" and lead.student_id is None and lead.status == "new"


def test_a_website_signup_no_office_has_claimed_is_linked_by_conversion_only(client_for, manager, office):
    website = StudentFactory(office=None, email="web@example.com")
    lead = lead_create(actor=manager, first_name="Web", email=website.email)
    assert lead.student_id is None  # staff typing an email learn nothing about accounts
    assert client_for(manager).post(f"/api/v1/leads/{lead.id}/convert").json()["student_id"] == website.id
    website.refresh_from_db()
    assert website.office_id == office.id  # claimed by this office


# --- a link that does not count opens no door ---------------------------------------------------


@pytest.mark.parametrize("role", LONDON_ROLES)
def test_the_lead_does_not_show_the_student(role, london, client_for, stale_link):
    answer = client_for(london[role]).get(f"/api/v1/leads/{stale_link.id}")
    assert answer.status_code == 200 and answer.json()["student_id"] is None
    export = b"".join(client_for(london[role]).get("/api/v1/leads/export").streaming_content).decode()
    assert str(stale_link.id) in export and f",{stale_link.student_id}," not in export


@pytest.mark.parametrize("role", LONDON_ROLES)
def test_the_students_documents_stay_hidden(role, london, client_for, stale_link, tara):
    client, document = client_for(london[role]), tara.document
    assert client.get(f"/api/v1/documents/{document.id}").status_code == 404
    assert client.get(f"/api/v1/documents/{document.id}/download").status_code == 404
    review = client.post(f"/api/v1/documents/{document.id}/review", {"status": "rejected", "note": "no"})
    assert review.status_code == 404
    assert client.delete(f"/api/v1/documents/{document.id}").status_code == 404
    assert document.id not in {d["id"] for d in client.get("/api/v1/documents").json()["results"]}
    # an upload for her is refused as for someone who does not exist, and nothing is filed anywhere
    before = Document.objects.count()
    for student_id in (tara.id, 10**9):
        upload = client.post(
            "/api/v1/documents", {"file": pdf(), "kind": "transcript", "student_id": student_id}, format="multipart"
        )
        assert (upload.status_code, upload.json()["error"]["code"]) == (400, "unknown_student")
    assert Document.objects.count() == before
    document.refresh_from_db()
    assert document.status == "pending" and document.deleted_at is None


def test_a_document_of_the_lead_is_filed_in_the_leads_office_and_tells_the_student_nothing(
    client_for, consultant, stale_link, tara, office
):
    upload = client_for(consultant).post(
        "/api/v1/documents", {"file": pdf(), "kind": "transcript", "lead_id": stale_link.id}, format="multipart"
    )
    assert upload.status_code == 201
    document = Document.objects.get(pk=upload.json()["id"])
    assert document.office_id == office.id and document.student_id is None
    client_for(consultant).post(f"/api/v1/documents/{document.id}/review", {"status": "rejected", "note": "Blurry"})
    assert not Notification.objects.filter(recipient=tara, kind="document_reviewed").exists()
    assert client_for(tara).get(f"/api/v1/documents/{document.id}").status_code == 404


@pytest.mark.parametrize("role", LONDON_ROLES)
def test_no_appointment_is_booked_for_the_student(role, london, client_for, consultant, stale_link, tara):
    start = NOW + timedelta(days=2, hours=1)
    body = {"consultant_id": consultant.id, "title": "Intake", "start": start.isoformat()}
    body["end"] = (start + timedelta(hours=1)).isoformat()
    client = client_for(london[role])
    for student_id in (tara.id, 10**9):
        refused = client.post("/api/v1/appointments", {**body, "student_id": student_id})
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "unknown_student")
    assert not Appointment.objects.exists()
    # booked for the lead: filed in London, and the Toronto student is neither named nor told
    booked = client.post("/api/v1/appointments", {**body, "lead_id": stale_link.id})
    assert booked.status_code == 201 and booked.json()["student_id"] is None
    assert not Notification.objects.filter(recipient=tara).exclude(kind="conversation_added").exists()
    assert client_for(tara).get(f"/api/v1/appointments/{booked.json()['id']}").status_code == 404


def test_the_student_neither_books_with_nor_contacts_the_leads_consultant(client_for, consultant, stale_link, tara):
    client = client_for(tara)
    start = NOW + timedelta(days=2, hours=1)
    booking = client.post(
        "/api/v1/appointments",
        {
            "consultant_id": consultant.id,
            "title": "Hi",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert booking.status_code == 400 and booking.json()["error"]["code"] == "unknown_consultant"
    contacts = {u["id"] for u in client.get("/api/v1/conversations/suggested-contacts").json()["results"]}
    assert consultant.id not in contacts
    started = client.post("/api/v1/conversations", {"type": "direct", "participant_ids": [consultant.id]})
    assert started.status_code == 404
    assert client.post(f"/api/v1/conversations/direct/{consultant.id}").status_code == 404


@pytest.mark.parametrize("role", LONDON_ROLES)
def test_no_conversation_of_the_student_reaches_london(role, london, client_for, manager, office, stale_link, tara):
    """Once the lead is (re)assigned, neither her Toronto conversation nor any new one with her is
    readable from London: not as a participant, not by monitoring, not through search."""
    colleague = ConsultantFactory(office=office)
    assert (
        client_for(manager).post(f"/api/v1/leads/{stale_link.id}/assign", {"consultant_id": colleague.id}).status_code
        == 200
    )
    message_send(sender=tara, conversation=tara.conversation, content="Another visa question")
    client = client_for(london[role])
    for conversation in Conversation.objects.filter(participants__user=tara):
        assert client.get(f"/api/v1/conversations/{conversation.id}").status_code == 404
        assert client.get(f"/api/v1/conversations/{conversation.id}/messages").status_code == 404
        assert client.get(f"/api/v1/conversations/{conversation.id}/export").status_code == 404
    listed = {c["id"] for c in client.get("/api/v1/conversations").json()["results"]}
    if role == "manager":
        listed |= {
            c["id"] for c in client.get(f"/api/v1/conversations/monitoring/office/{office.id}").json()["results"]
        }
    assert not listed & set(Conversation.objects.filter(participants__user=tara).values_list("id", flat=True))
    assert client.get("/api/v1/messages/search", {"q": "visa"}).json()["results"] == []


@pytest.mark.parametrize("auto", [True, False])
def test_assigning_the_lead_opens_no_conversation_with_the_student(
    settings, auto, client_for, manager, office, tara, stale_link
):
    settings.AUTO_CREATE_CONVERSATIONS = auto
    colleague = ConsultantFactory(office=office)
    assert (
        client_for(manager).post(f"/api/v1/leads/{stale_link.id}/assign", {"consultant_id": colleague.id}).status_code
        == 200
    )
    assert list(Conversation.objects.filter(participants__user=tara)) == [tara.conversation]
    assert not Conversation.objects.filter(office=office, participants__user=tara).exists()
    escalated = client_for(manager).post(f"/api/v1/leads/{stale_link.id}/escalate")
    assert escalated.status_code == 400 and escalated.json()["error"]["code"] == "no_account"
    assert client_for(manager).get(f"/api/v1/conversations/{tara.conversation.id}/messages").status_code == 404


def test_a_signup_linked_by_two_offices_belongs_to_the_one_that_converts_her(
    client_for, api_client, manager, office, toronto
):
    """A website signup links the leads of every office that knew her email; once one office converts
    her, the other office's lead no longer reaches her."""
    theirs = LeadFactory(office=toronto, email="sam@example.com", assigned_to=ConsultantFactory(office=toronto))
    mine = LeadFactory(office=office, email="sam@example.com")
    api_client.post(
        "/api/v1/auth/signup",
        {"email": "sam@example.com", "password": "Str0ng-pass-phrase", "first_name": "Sam", "last_name": "S"},
    )
    sam = User.objects.get(email="sam@example.com")
    theirs.refresh_from_db()
    assert theirs.linked_student == sam  # no office yet: every office that knew her reaches her
    assert client_for(theirs.assigned_to).get(f"/api/v1/leads/{theirs.id}").json()["student_id"] == sam.id
    assert client_for(manager).post(f"/api/v1/leads/{mine.id}/convert").json()["student_id"] == sam.id
    answer = client_for(theirs.assigned_to).get(f"/api/v1/leads/{theirs.id}").json()
    assert answer["student_id"] is None
    start = NOW + timedelta(days=2, hours=3)
    refused = client_for(theirs.assigned_to).post(
        "/api/v1/appointments",
        {
            "consultant_id": theirs.assigned_to_id,
            "student_id": sam.id,
            "title": "x",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert refused.json()["error"]["code"] == "unknown_student"


# --- the rule, one rule in every form ---------------------------------------------------------------


def test_every_form_of_the_rule_agrees(office, toronto):
    """`Lead.linked_student` (in hand), `linked_leads_q` (leads → students) and `leads_reaching_q`
    (student → leads) say the same for every pair of offices, none included."""
    offices = [None, office, toronto]
    for student_office in offices:
        student = StudentFactory(office=student_office)
        for lead_office in offices:
            lead = LeadFactory(office=lead_office, student=student)
            expected = student_office is None or student_office == lead_office
            assert (lead.linked_student is not None) is expected, (student_office, lead_office)
            assert Lead.objects.filter(linked_leads_q(), pk=lead.pk).exists() is expected
            assert Lead.objects.filter(leads_reaching_q(student), pk=lead.pk).exists() is expected
