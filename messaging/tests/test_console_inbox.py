"""The console inbox (`/admin/messaging/conversation/`): a staff member's own conversations with unread
counts and "waiting for us", one opened for reply; other people's conversations do not exist here."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import PASSWORD, StudentFactory
from messaging.models import MonitoringAudit
from messaging.services import conversation_ensure_direct, conversation_mark_read
from messaging.tests.factories import make_conversation, send

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)
    return client


def count(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_every_staff_role_has_an_inbox(client, actors):
    for role in ("super_admin", "manager", "consultant", "receptionist"):
        login(client, actors[role])
        assert client.get("/admin/messaging/conversation/").status_code == 200, role
        client.logout()


def test_rows_are_named_with_unread_counts_and_waiting_markers(client, consultant, office):
    student = StudentFactory(office=office, first_name="Nadia", last_name="Student")
    direct = conversation_ensure_direct(user_a=consultant, user_b=student, office=office)
    send(student, direct, "Is my visa letter ready?")
    send(student, direct, "Hello?")
    answered = make_conversation(consultant, StudentFactory(office=office), office=office, title="Group chat")
    send(consultant, answered, "We answered")
    inbox = login(client, consultant).get("/admin/messaging/conversation/")
    rows = {row["conversation"].pk: row for row in inbox.context["rows"]}
    assert rows[direct.pk]["title"] == "Nadia Student"  # never "Direct conversation 12"
    assert rows[direct.pk]["unread"] == 2 and rows[direct.pk]["waiting"] is True
    assert rows[answered.pk]["unread"] == 0 and rows[answered.pk]["waiting"] is False
    conversation_mark_read(user=consultant, conversation=direct, seq=2)
    rows = {row["conversation"].pk: row for row in client.get("/admin/messaging/conversation/").context["rows"]}
    assert rows[direct.pk]["unread"] == 0 and rows[direct.pk]["waiting"] is True  # read, still not answered


def test_an_open_conversation_carries_what_the_page_needs(client, consultant, office):
    student = StudentFactory(office=office)
    chat = make_conversation(consultant, student, office=office)
    send(student, chat, "<script>alert(1)</script>")
    page = login(client, consultant).get(f"/admin/messaging/conversation/{chat.pk}/change/")
    config = page.context["config"]
    assert config["conversation_id"] == chat.pk and config["me"] == consultant.pk
    assert {p["id"]: p["last_read_seq"] for p in config["participants"]} == {consultant.pk: 0, student.pk: 1}
    body = page.content.decode()
    assert "<script>alert(1)</script>" not in body  # messages are loaded over REST and set as text
    assert "console/inbox.js" in body and 'name="console-token-url"' in body


def test_conversations_of_others_are_404_even_for_their_manager(client, manager, consultant, office, other_consultant):
    student = StudentFactory(office=office)
    chat = make_conversation(consultant, student, office=office)
    elsewhere = make_conversation(other_consultant, StudentFactory(), office=other_consultant.office)
    login(client, manager)
    # not a participant: the inbox is not the place; the audited monitor is
    assert client.get(f"/admin/messaging/conversation/{chat.pk}/change/").status_code == 404
    assert client.get(f"/admin/messaging/conversation/{elsewhere.pk}/change/").status_code == 404
    assert client.get("/admin/messaging/conversation/nonsense/change/").status_code == 404
    assert not MonitoringAudit.objects.exists()


def test_inbox_pages_run_a_fixed_number_of_queries(client, consultant, office):
    def more():
        students = StudentFactory(office=office), StudentFactory(office=office)
        chat = make_conversation(consultant, *students, office=office)
        send(chat.participants.last().user, chat, "question")
        return chat

    login(client, consultant)
    first, *_ = [more() for _ in range(3)]
    opened_path = f"/admin/messaging/conversation/{first.pk}/change/"
    listing, opened = count(client, "/admin/messaging/conversation/"), count(client, opened_path)
    for _ in range(3):
        more()
    assert count(client, "/admin/messaging/conversation/") == listing == 6
    assert count(client, opened_path) == opened == 10


# --- the live monitor (reports.admin_views), read-only and audited ---------------------------


def test_monitor_rows_refresh_without_the_page_and_are_audited(client, manager, consultant, office):
    chat = make_conversation(consultant, StudentFactory(office=office), office=office, title="Desk")
    send(chat.participants.last().user, chat, "First")
    login(client, manager)
    rows = client.get("/admin/monitor/?rows=1")
    body = rows.content.decode()
    assert rows.status_code == 200 and body.lstrip().startswith("<tr")
    assert "First" in body and "waiting for a reply" in body
    assert MonitoringAudit.objects.filter(actor=manager, action="monitor_list").count() == 1


def test_monitor_page_gives_history_and_catch_up_settings(client, manager, consultant, office, other_manager):
    chat = make_conversation(consultant, StudentFactory(office=office), office=office)
    for n in range(55):
        send(consultant, chat, f"m{n}")
    page = login(client, manager).get(f"/admin/monitor/{chat.pk}/")
    assert [m["seq"] for m in page.context["history"]][:1] == [6] and page.context["config"]["more"] is True
    assert "console/monitor.js" in page.content.decode()
    client.logout()
    assert login(client, other_manager).get(f"/admin/monitor/{chat.pk}/").status_code == 404


def test_monitor_pages_run_a_fixed_number_of_queries(client, manager, consultant, office):
    def more():
        chat = make_conversation(consultant, StudentFactory(office=office), office=office)
        send(consultant, chat, "hello")
        return chat

    login(client, manager)
    first, *_ = [more() for _ in range(3)]
    listing, detail = count(client, "/admin/monitor/"), count(client, f"/admin/monitor/{first.pk}/")
    for _ in range(3):
        more()
    now = count(client, "/admin/monitor/"), count(client, f"/admin/monitor/{first.pk}/")
    assert now == (listing, detail) == (7, 11)


def test_the_message_records_name_conversations_by_their_people(client, manager, consultant, office):
    student = StudentFactory(office=office, first_name="Nadia", last_name="Student")
    direct = conversation_ensure_direct(user_a=consultant, user_b=student, office=office)
    for n in range(3):
        send(student, direct, f"note {n}")
    login(client, manager)
    with CaptureQueriesContext(connection) as captured:
        body = client.get("/admin/messaging/message/").content.decode()
    assert f"{consultant.full_name}, Nadia Student" in body or f"Nadia Student, {consultant.full_name}" in body
    assert "Direct conversation" not in body
    send(student, direct, "one more")
    with CaptureQueriesContext(connection) as again:
        client.get("/admin/messaging/message/")
    assert len(again) == len(captured)
