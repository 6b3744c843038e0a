"""Inbox triage (issue 25, item 7): a conversation's status per staff member (open, resolved, snoozed
until), over the API and by the same service; canned replies per office. Tables per role, the 404 rule."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.tests.factories import StudentFactory
from messaging.models import CannedReply
from messaging.tests.factories import make_conversation, send

pytestmark = pytest.mark.django_db
NOW = datetime(2031, 3, 13, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def status_of(client, chat):
    return client.get(f"/api/v1/conversations/{chat.pk}").json()["status"]


def test_resolved_is_mine_alone_and_opens_again_when_the_student_writes(client_for, consultant, manager, office):
    student = StudentFactory(office=office)
    chat = make_conversation(consultant, student, manager, office=office)
    send(student, chat, "Thanks, that's all!")
    mine = client_for(consultant)
    resolved = mine.patch(f"/api/v1/conversations/{chat.pk}", {"status": "resolved"}, format="json")
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert status_of(client_for(manager), chat) == "open"  # the manager's inbox is theirs
    send(consultant, chat, "Good luck!")  # my own message keeps it resolved
    assert status_of(mine, chat) == "resolved"
    listed = mine.get("/api/v1/conversations", {"status": "resolved"}).json()["results"]
    assert [c["id"] for c in listed] == [chat.pk] and mine.get("/api/v1/conversations", {"status": "open"}).json()[
        "results"
    ] == []
    send(student, chat, "One more question")
    assert status_of(mine, chat) == "open"


def test_snoozed_until_a_time_then_open(client_for, consultant, office, clock):
    chat = make_conversation(consultant, StudentFactory(office=office), office=office)
    client = client_for(consultant)
    until = (NOW + timedelta(hours=2)).isoformat()
    body = client.patch(f"/api/v1/conversations/{chat.pk}", {"status": "snoozed", "snoozed_until": until}).json()
    assert body["status"] == "snoozed" and body["snoozed_until"] == "2031-03-13T12:00:00+00:00"
    clock.move_to(NOW + timedelta(hours=2, minutes=1))
    assert status_of(client_for(consultant), chat) == "open"  # (a new token: the first one expired meanwhile)


@pytest.mark.parametrize(
    "body, code",
    [
        ({"status": "snoozed"}, "invalid_snooze"),
        ({"status": "snoozed", "snoozed_until": "2031-03-13T09:00:00Z"}, "invalid_snooze"),
        ({"status": "sleeping"}, "validation_error"),
        ({"status": "snoozed", "snoozed_until": "soon"}, "validation_error"),
    ],
)
def test_bad_triage_is_a_clear_400(body, code, client_for, consultant, office):
    chat = make_conversation(consultant, StudentFactory(office=office), office=office)
    response = client_for(consultant).patch(f"/api/v1/conversations/{chat.pk}", body, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_students_have_no_triage_and_strangers_get_404(client_for, consultant, student, other_consultant, office):
    chat = make_conversation(consultant, student, office=office)
    refused = client_for(student).patch(f"/api/v1/conversations/{chat.pk}", {"status": "resolved"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "staff_only"
    hidden = client_for(other_consultant).patch(f"/api/v1/conversations/{chat.pk}", {"status": "resolved"})
    assert hidden.status_code == 404


def test_the_inbox_searches_titles_and_people(client_for, consultant, office):
    sam = StudentFactory(office=office, first_name="Samira", last_name="Okafor")
    make_conversation(consultant, sam, office=office)
    make_conversation(consultant, StudentFactory(office=office, first_name="Bo"), office=office, title="Visa")
    client = client_for(consultant)

    def found(q):
        page = client.get("/api/v1/conversations", {"q": q}).json()["results"]
        return [c["title"] or c["participants"][1]["first_name"] for c in page]

    assert found("okaf") == ["Samira"] and found("visa") == ["Visa"] and found("nobody") == []


@pytest.mark.parametrize("rows", [3, 8])
def test_the_triaged_list_runs_a_fixed_number_of_queries(
    rows, client_for, consultant, office, django_assert_num_queries
):
    for _ in range(rows):
        send(consultant, make_conversation(consultant, StudentFactory(office=office), office=office), "hi")
    client = client_for(consultant)
    with django_assert_num_queries(4):  # the user, the page (triage in SQL), people, files
        assert len(client.get("/api/v1/conversations", {"status": "open"}).json()["results"]) == rows


# --- canned replies -------------------------------------------------------------------------------

WRITE = {"super_admin": 201, "manager": 201, "consultant": 403, "receptionist": 403, "student": 403}
READ_OTHER_OFFICE = {"super_admin": 200, "manager": 404, "consultant": 404, "receptionist": 404, "student": 404}


@pytest.mark.parametrize("role", ["super_admin", "manager", "consultant", "receptionist", "student"])
def test_canned_replies_per_role(role, actors, client_for, office, other_office):
    client = client_for(actors[role])
    theirs = CannedReply.objects.create(office=other_office, shortcut="fees", content="Fees are ...")
    ours = CannedReply.objects.create(office=office, shortcut="docs", content="Please upload your passport.")
    created = client.post("/api/v1/canned-replies", {"shortcut": "hello", "content": "Hello!", "office_id": office.pk})
    assert created.status_code == WRITE[role], created.content
    listed = {r["shortcut"] for r in client.get("/api/v1/canned-replies").json()["results"]}
    expected = {
        "super_admin": {"fees", "docs", "hello"},
        "student": set(),
    }.get(role, {"docs"} | ({"hello"} if WRITE[role] == 201 else set()))
    assert listed == expected
    assert client.get(f"/api/v1/canned-replies/{theirs.pk}").status_code == READ_OTHER_OFFICE[role]
    change = client.patch(f"/api/v1/canned-replies/{ours.pk}", {"content": "Passport, please."})
    assert change.status_code == {"student": 404, "consultant": 403, "receptionist": 403}.get(role, 200)
    assert client.delete(f"/api/v1/canned-replies/{theirs.pk}").status_code == (204 if role == "super_admin" else 404)


def test_a_shortcut_is_once_per_office_and_checked(client_for, manager, office):
    client = client_for(manager)
    assert client.post("/api/v1/canned-replies", {"shortcut": "fees", "content": "A"}).status_code == 201
    again = client.post("/api/v1/canned-replies", {"shortcut": "fees", "content": "B"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "shortcut_taken"
    for bad in ({"shortcut": "no spaces", "content": "x"}, {"shortcut": "ok", "content": ""}, {"shortcut": "ok"}):
        assert client.post("/api/v1/canned-replies", bad).status_code == 400
    assert CannedReply.objects.count() == 1


def test_hostile_canned_reply_ids_and_filters_are_clear_answers(client_for, manager):
    client = client_for(manager)
    assert client.get("/api/v1/canned-replies/99999999999999999999999").status_code == 404
    assert client.get("/api/v1/canned-replies", {"office": "99999999999999999999999"}).status_code == 400
    assert client.get("/api/v1/canned-replies", {"office": "x"}).status_code == 400
    assert client.post("/api/v1/canned-replies", {"shortcut": "a", "content": "x" * 4001}).status_code == 400
