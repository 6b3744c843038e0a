import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import close_old_connections, connection

from accounts.models import Role, User
from accounts.tests.factories import ConsultantFactory, ManagerFactory, StudentFactory
from leads.models import Activity, Lead
from leads.services import lead_add_note, lead_assign
from leads.tests.factories import LeadFactory
from messaging.models import Conversation, Participant
from messaging.services import message_send
from notifications.models import Notification

pytestmark = pytest.mark.django_db

ROLES = ["super_admin", "manager", "consultant", "receptionist", "student"]


@pytest.fixture
def mine(office, consultant):
    return LeadFactory(office=office, assigned_to=consultant)


@pytest.fixture
def unassigned(office):
    return LeadFactory(office=office)


@pytest.fixture
def elsewhere(other_office, other_consultant):
    return LeadFactory(office=other_office, assigned_to=other_consultant)


# role -> status for (lead assigned to the office's consultant, unassigned lead of the office, lead of another office)
READ = {
    "super_admin": (200, 200, 200),
    "manager": (200, 200, 404),
    "consultant": (200, 404, 404),
    "receptionist": (200, 200, 404),
    "student": (404, 404, 404),
}
CHANGE = {
    "super_admin": (200, 200, 200),
    "manager": (200, 200, 404),
    "consultant": (200, 404, 404),
    "receptionist": (403, 403, 404),
    "student": (404, 404, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_reading_and_changing_leads(role, actors, client_for, mine, unassigned, elsewhere):
    client = client_for(actors[role])
    for lead, read, change in zip((mine, unassigned, elsewhere), READ[role], CHANGE[role], strict=True):
        assert client.get(f"/api/v1/leads/{lead.id}").status_code == read
        assert client.get(f"/api/v1/leads/{lead.id}/activities").status_code == read
        assert client.patch(f"/api/v1/leads/{lead.id}", {"first_name": "Renamed"}).status_code == change
        assert client.post(f"/api/v1/leads/{lead.id}/status", {"status": "contacted"}).status_code == change
    listed = {lead["id"] for lead in client.get("/api/v1/leads").json().get("results", [])}
    assert listed == {
        lead.id for lead, read in zip((mine, unassigned, elsewhere), READ[role], strict=True) if read == 200
    }


@pytest.mark.parametrize(
    "role, status",
    [("super_admin", 201), ("manager", 201), ("receptionist", 201), ("consultant", 403), ("student", 403)],
)
def test_creating_leads(role, status, actors, client_for, office):
    response = client_for(actors[role]).post(
        "/api/v1/leads",
        {"first_name": "Walk", "last_name": "In", "email": "walkin@example.com", "office_id": office.id},
    )
    assert response.status_code == status
    if status == 201:
        assert response.json()["office_id"] == office.id and response.json()["source"] == "walk_in"
        assert Activity.objects.filter(lead_id=response.json()["id"], kind="created").exists()


def test_receptionist_creates_for_own_office_only(client_for, receptionist, other_office):
    response = client_for(receptionist).post(
        "/api/v1/leads", {"first_name": "X", "email": "x@example.com", "office_id": other_office.id}
    )
    assert response.status_code == 404  # the other office is not visible to them


def test_duplicates_are_reported_unless_confirmed(client_for, receptionist, mine):
    body = {"first_name": "Again", "email": mine.email.upper()}
    conflict = client_for(receptionist).post("/api/v1/leads", body)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "duplicate_lead"
    assert conflict.json()["error"]["details"]["lead_id"] == mine.id
    by_phone = client_for(receptionist).post("/api/v1/leads", {"first_name": "P", "phone": mine.phone})
    assert by_phone.status_code == 409 and by_phone.json()["error"]["details"]["field"] == "phone"
    confirmed = client_for(receptionist).post("/api/v1/leads", {**body, "confirm_duplicate": True})
    assert confirmed.status_code == 201


@pytest.mark.parametrize("field", ["email", "phone"])
def test_the_duplicate_answer_names_only_a_lead_the_caller_may_see(field, client_for, consultant, office, manager):
    """A consultant sees their own leads only: the office's other lead with the same contact is reported
    (the office keeps one lead per person) but not named; whoever may see it gets its id and name."""
    theirs = LeadFactory(office=office, assigned_to=consultant, email="own@example.com", phone="+44 100")
    hidden = LeadFactory(office=office, first_name="Hidden", last_name="Person")
    assert client_for(consultant).get(f"/api/v1/leads/{hidden.id}").status_code == 404
    value = getattr(hidden, field)
    conflict = client_for(consultant).patch(f"/api/v1/leads/{theirs.id}", {field: value})
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "duplicate_lead"
    assert conflict.json()["error"]["details"] == {"field": field}
    assert "Hidden" not in conflict.content.decode() and str(hidden.id) not in conflict.content.decode()
    named = client_for(manager).patch(f"/api/v1/leads/{theirs.id}", {field: value})
    assert named.json()["error"]["details"] == {"field": field, "lead_id": hidden.id, "name": "Hidden Person"}
    confirmed = client_for(consultant).patch(f"/api/v1/leads/{theirs.id}", {field: value, "confirm_duplicate": True})
    assert confirmed.status_code == 200


def test_same_email_in_another_office_is_not_a_duplicate(client_for, super_admin, mine, other_office):
    response = client_for(super_admin).post(
        "/api/v1/leads", {"first_name": "X", "email": mine.email, "office_id": other_office.id}
    )
    assert response.status_code == 201


def test_a_lead_with_a_students_email_is_linked(client_for, receptionist, office):
    student = StudentFactory(email="known@example.com", office=office)
    response = client_for(receptionist).post("/api/v1/leads", {"first_name": "K", "email": "Known@Example.com"})
    assert response.json()["student_id"] == student.id


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"first_name": ""}, "validation_error"),
        ({"first_name": "x"}, "contact_required"),
        ({"first_name": "x", "email": "nope"}, "validation_error"),
        ({"first_name": "x", "phone": "call me maybe"}, "validation_error"),
        ({"first_name": "x" * 151, "email": "a@example.com"}, "validation_error"),
        ({"first_name": "x", "email": "a@example.com", "source": "carrier_pigeon"}, "validation_error"),
    ],
)
def test_bad_lead_input(client_for, receptionist, payload, code):
    response = client_for(receptionist).post("/api/v1/leads", payload)
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    "payload", [{"first_name": "x", "phone": "   "}, {"first_name": "x", "email": "", "phone": ""}]
)
def test_a_lead_keeps_a_way_to_reach_them(client_for, manager, payload):
    """Creating or editing, over the API or in the console, by the one rule: an email or a phone number."""
    client = client_for(manager)
    response = client.post("/api/v1/leads", payload)
    assert response.status_code == 400 and response.json()["error"]["code"] == "contact_required"
    lead = client.post("/api/v1/leads", {"first_name": "x", "email": "reach@example.com"}).json()
    response = client.patch(f"/api/v1/leads/{lead['id']}", {"email": "", "phone": " "})
    assert response.status_code == 400 and response.json()["error"]["code"] == "contact_required"
    assert Lead.objects.get(pk=lead["id"]).email == "reach@example.com"


def test_pipeline_transitions(client_for, consultant, mine):
    client = client_for(consultant)
    assert client.post(f"/api/v1/leads/{mine.id}/status", {"status": "qualified"}).json()["status"] == "qualified"
    back = client.post(f"/api/v1/leads/{mine.id}/status", {"status": "contacted"})
    assert back.status_code == 400 and back.json()["error"]["code"] == "invalid_transition"
    direct = client.post(f"/api/v1/leads/{mine.id}/status", {"status": "converted"})
    assert direct.status_code == 400 and direct.json()["error"]["code"] == "invalid_transition"
    no_reason = client.post(f"/api/v1/leads/{mine.id}/status", {"status": "lost"})
    assert no_reason.json()["error"]["code"] == "lost_reason_required"
    lost = client.post(f"/api/v1/leads/{mine.id}/status", {"status": "lost", "lost_reason": "Chose another agency"})
    assert lost.json()["status"] == "lost" and lost.json()["lost_reason"] == "Chose another agency"
    closed = client.post(f"/api/v1/leads/{mine.id}/status", {"status": "applied"})
    assert closed.json()["error"]["code"] == "invalid_transition"
    kinds = list(Activity.objects.filter(lead=mine).values_list("data", flat=True))
    assert {"from": "new", "to": "qualified"} in kinds and {"from": "qualified", "to": "lost"} in kinds


def test_assign_notifies_and_opens_the_lead_conversation(
    client_for, manager, office, django_capture_on_commit_callbacks, settings
):
    settings.AUTO_CREATE_CONVERSATIONS = True
    student = StudentFactory(office=office)
    lead = LeadFactory(office=office, student=student)
    first, second = ConsultantFactory(office=office), ConsultantFactory(office=office)
    client = client_for(manager)
    assert client.post(f"/api/v1/leads/{lead.id}/assign", {"consultant_id": first.id}).json()["assigned_to"] == first.id
    assert Notification.objects.filter(recipient=first, kind="lead_assigned", data__lead_id=lead.id).exists()
    conversation = Conversation.objects.get(lead=lead)

    message_send(sender=student, conversation=conversation, content="hello consultant")
    client.post(f"/api/v1/leads/{lead.id}/assign", {"consultant_id": second.id})
    conversation.refresh_from_db()
    assert set(Participant.objects.filter(conversation=conversation).values_list("user_id", flat=True)) == {
        student.id,
        second.id,
    }
    assert conversation.messages.count() == 1  # the history moved with it
    assert Activity.objects.filter(lead=lead, kind="assigned").count() == 2


@pytest.mark.parametrize(
    "who, code",
    [
        ("other_consultant", "unknown_consultant"),
        ("other_manager", "unknown_consultant"),
        ("receptionist", "not_a_consultant"),
    ],
)
def test_assign_refuses_the_wrong_people(who, code, request, client_for, manager, mine):
    target = request.getfixturevalue(who)
    response = client_for(manager).post(f"/api/v1/leads/{mine.id}/assign", {"consultant_id": target.id})
    assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_only_managers_assign(client_for, consultant, receptionist, mine):
    assert (
        client_for(consultant).post(f"/api/v1/leads/{mine.id}/assign", {"consultant_id": consultant.id}).status_code
        == 403
    )
    assert (
        client_for(receptionist).post(f"/api/v1/leads/{mine.id}/assign", {"consultant_id": consultant.id}).status_code
        == 403
    )
    assert client_for(consultant).post(f"/api/v1/leads/{mine.id}/assign", {"consultant_id": "x"}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_concurrent_assignments_leave_one_consistent_owner(office):
    manager = ManagerFactory(office=office)
    lead = LeadFactory(office=office)
    consultants = [ConsultantFactory(office=office) for _ in range(4)]

    barrier = threading.Barrier(4)
    errors = []

    def assign(consultant):
        try:
            barrier.wait()
            lead_assign(actor=manager, lead=lead, consultant=consultant)
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=assign, args=(c,)) for c in consultants]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    lead.refresh_from_db()
    assigned = Activity.objects.filter(lead=lead, kind="assigned").order_by("id")
    assert assigned.count() == 4 and assigned.last().data["consultant_id"] == lead.assigned_to_id
    previous = [a.data["previous_id"] for a in assigned]
    assert previous[0] is None and previous[1:] == [a.data["consultant_id"] for a in assigned][:-1]


def test_convert_creates_or_links_the_student(client_for, manager, office):
    fresh = LeadFactory(office=office, email="fresh@example.com")
    body = client_for(manager).post(f"/api/v1/leads/{fresh.id}/convert").json()
    account = User.objects.get(email="fresh@example.com")
    assert body["status"] == "converted" and body["student_id"] == account.id
    assert account.role == Role.STUDENT and account.office_id == office.id and not account.has_usable_password()
    existing = StudentFactory(email="known@example.com", office=None)
    known = LeadFactory(office=office, email="known@example.com")
    assert client_for(manager).post(f"/api/v1/leads/{known.id}/convert").json()["student_id"] == existing.id
    assert client_for(manager).post(f"/api/v1/leads/{known.id}/convert").json()["error"]["code"] == "invalid_transition"
    staff_email = LeadFactory(office=office, email=manager.email)
    assert client_for(manager).post(f"/api/v1/leads/{staff_email.id}/convert").status_code == 409


def test_escalate_opens_the_manager_conversation(client_for, manager, consultant, office):
    student = StudentFactory(office=office)
    lead = LeadFactory(office=office, student=student, assigned_to=consultant)
    response = client_for(consultant).post(f"/api/v1/leads/{lead.id}/escalate", {"note": "Unhappy with fees"})
    conversation = Conversation.objects.get(pk=response.json()["conversation_id"])
    assert set(conversation.participants.values_list("user_id", flat=True)) == {manager.id, student.id}
    assert Activity.objects.get(lead=lead, kind="escalated").text == "Unhappy with fees"
    no_account = LeadFactory(office=office, assigned_to=consultant)
    assert (
        client_for(consultant).post(f"/api/v1/leads/{no_account.id}/escalate").json()["error"]["code"] == "no_account"
    )


def test_notes_on_the_timeline(client_for, receptionist, mine):
    client = client_for(receptionist)
    assert client.post(f"/api/v1/leads/{mine.id}/activities", {"text": "Called, no answer"}).status_code == 201
    assert client.post(f"/api/v1/leads/{mine.id}/activities", {"text": ""}).status_code == 400
    assert client.get(f"/api/v1/leads/{mine.id}/activities").json()["results"][0]["text"] == "Called, no answer"


def test_filters_and_search(client_for, manager, office, consultant):
    LeadFactory(office=office, first_name="Zara", last_name="Ng", status="contacted", source="event")
    LeadFactory(office=office, first_name="Yuri", last_name="Ng", assigned_to=consultant)  # not "Salazar"
    client = client_for(manager)
    assert [lead["first_name"] for lead in client.get("/api/v1/leads?q=zar").json()["results"]] == ["Zara"]
    assert [lead["first_name"] for lead in client.get("/api/v1/leads?status=contacted").json()["results"]] == ["Zara"]
    mine = client.get(f"/api/v1/leads?assigned_to={consultant.id}").json()["results"]
    assert [lead["first_name"] for lead in mine] == ["Yuri"]
    assert client.get("/api/v1/leads?created_after=2000-01-01T00:00:00Z").json()["results"]
    assert client.get("/api/v1/leads?created_after=yesterday").status_code == 400
    assert client.get("/api/v1/leads?status=dormant").status_code == 400


@pytest.mark.parametrize(
    "moment",
    [
        "0172-04-20T23:37:39.1+23:07",  # an offset PostgreSQL refuses, a year before the calendar counted
        "9999-12-31T23:59:59-23:59",  # past the end of Python's calendar once in UTC
        "2026-13-01T00:00:00Z",
        "2026-12-04T25:00:00Z",
        "x" * 5000,
    ],
)
@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/v1/leads", "created_before"), ("/api/v1/leads", "created_after"), ("/api/v1/appointments", "start_after")],
)
def test_a_moment_out_of_reach_is_a_clear_400(client_for, manager, path, name, moment):
    answer = client_for(manager).get(path, {name: moment})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "validation_error" and name in answer.json()["error"]["details"]


def test_a_far_offset_within_the_calendar_is_read_as_the_moment_it_names(client_for, manager, office):
    LeadFactory(office=office, first_name="Zara")
    client = client_for(manager)
    assert client.get("/api/v1/leads", {"created_after": "2000-01-01T00:00:00+23:07"}).json()["results"]
    assert not client.get("/api/v1/leads", {"created_before": "2000-01-01T00:00:00-23:59"}).json()["results"]


@pytest.mark.parametrize("rows", [3, 20])
def test_lead_list_query_count_is_fixed(rows, client_for, manager, office, consultant, django_assert_num_queries):
    LeadFactory.create_batch(rows, office=office, assigned_to=consultant)
    client = client_for(manager)
    with django_assert_num_queries(2):
        response = client.get("/api/v1/leads?limit=100")
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("notes", [3, 20])
def test_activity_list_query_count_is_fixed(notes, client_for, manager, mine, django_assert_num_queries):
    for n in range(notes):
        lead_add_note(actor=manager, lead=mine, text=f"note {n}")
    client = client_for(manager)
    with django_assert_num_queries(3):
        response = client.get(f"/api/v1/leads/{mine.id}/activities?limit=100")
    assert len(response.json()["results"]) == notes


def test_csv_export_is_scoped_filtered_and_safe(client_for, manager, office, elsewhere):
    LeadFactory(office=office, first_name="=cmd|' /C calc'!A0", status="qualified")
    LeadFactory(office=office, first_name="Plain", status="new")
    response = client_for(manager).get("/api/v1/leads/export?status=qualified")
    text = b"".join(response.streaming_content).decode()
    lines = text.strip().splitlines()
    assert lines[0].startswith("id,first_name") and len(lines) == 2
    assert "'=cmd" in lines[1] and elsewhere.email not in text


def test_csv_import_reports_rows_and_imports_nothing_twice(client_for, receptionist):
    csv_text = (
        "first_name,last_name,email,phone,source\n"
        "Ann,Lee,ann@example.com,,event\n"
        ",NoName,noname@example.com,,\n"
        "Bob,Ray,not-an-email,,\n"
        "Cat,Sun,,+44 7000 000000,referral\n"
        "Dan,Fox,dan@example.com,,pigeon\n"
    )
    upload = lambda: SimpleUploadedFile("leads.csv", csv_text.encode(), content_type="text/csv")  # noqa: E731
    first = client_for(receptionist).post("/api/v1/leads/import", {"file": upload()}, format="multipart").json()
    assert first["created"] == 2 and first["skipped"] == 0
    assert [e["row"] for e in first["errors"]] == [3, 4, 6]
    again = client_for(receptionist).post("/api/v1/leads/import", {"file": upload()}, format="multipart").json()
    assert again["created"] == 0 and again["skipped"] == 2
    assert Lead.objects.count() == 2


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"name,email\nx,y\n", b""])
def test_bad_import_files(client_for, receptionist, content):
    response = client_for(receptionist).post(
        "/api/v1/leads/import", {"file": SimpleUploadedFile("x.csv", content)}, format="multipart"
    )
    assert response.status_code == 400


def test_import_command(tmp_path, receptionist, capsys):
    path = tmp_path / "leads.csv"
    path.write_text("first_name,email\nEve,eve@example.com\nBad,\n")
    call_command("import_leads", str(path), "--as", receptionist.email)
    out = capsys.readouterr().out
    assert "created 1" in out and "row 3" in out
    assert Lead.objects.filter(email="eve@example.com").exists()
