"""What an inbox needs besides lists: mark everything read, clear my history, the direct
conversation with someone by id (get or create), and the unread total for a badge."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tests.factories import ConsultantFactory, StudentFactory
from core.tests.test_uploads import png_bytes
from messaging.models import Conversation, Participant
from messaging.services import conversation_ensure_direct, message_send_with_files
from messaging.tests.factories import make_conversation, send

pytestmark = pytest.mark.django_db


def unread_in_list(client) -> dict[int, int]:
    return {c["id"]: c["unread_count"] for c in client.get("/api/v1/conversations?limit=100").json()["results"]}


# --- mark every conversation read ----------------------------------------------------------


def test_read_all_marks_every_conversation_of_mine_and_nobody_elses(client_for, office, consultant, receptionist):
    chats = [make_conversation(consultant, receptionist, office=office) for _ in range(3)]
    for chat in chats:
        send(receptionist, chat, "one")
        send(consultant, chat, "two")  # the receptionist has 1 unread in each
    send(receptionist, chats[0], "three")  # and the consultant 1 unread in the first
    as_receptionist = client_for(receptionist)
    assert unread_in_list(as_receptionist) == {chats[0].id: 0, chats[1].id: 1, chats[2].id: 1}

    response = as_receptionist.post("/api/v1/conversations/read-all")
    assert response.status_code == 200
    assert sorted(response.json()["read"], key=lambda r: r["conversation_id"]) == [
        {"conversation_id": chat.id, "seq": chat.id and Conversation.objects.get(pk=chat.id).last_seq}
        for chat in sorted(chats[1:], key=lambda c: c.id)
    ]  # the first had nothing unread for them (they wrote its last message)
    assert set(unread_in_list(as_receptionist).values()) == {0}
    assert unread_in_list(client_for(consultant))[chats[0].id] == 1  # the other side keeps theirs
    again = as_receptionist.post("/api/v1/conversations/read-all")
    assert again.status_code == 200 and again.json() == {"read": []}


def test_read_all_is_announced_as_reads(
    client_for, office, consultant, receptionist, inbox, django_capture_on_commit_callbacks
):
    chats = [make_conversation(consultant, receptionist, office=office) for _ in range(2)]
    for chat in chats:
        send(consultant, chat, "hello")
    mine, theirs = inbox(receptionist), inbox(consultant)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(receptionist).post("/api/v1/conversations/read-all")
    expected = [("message_read", {"conversation_id": chat.id, "user_id": receptionist.id, "seq": 1}) for chat in chats]
    assert sorted(mine(), key=str) == sorted(expected, key=str)  # the reader's other devices
    assert sorted(theirs(), key=str) == sorted(expected, key=str)  # read receipts for the sender


@pytest.mark.parametrize("rows", [3, 12])
def test_read_all_query_count_is_fixed(rows, client_for, office, consultant, django_assert_num_queries):
    for _ in range(rows):
        chat = make_conversation(consultant, ConsultantFactory(office=office), office=office)
        send(chat.participants.exclude(user=consultant).first().user, chat, "hi")
    client = client_for(consultant)
    # user; savepoint; one UPDATE ... RETURNING for every conversation; their members; release
    with django_assert_num_queries(5):
        response = client.post("/api/v1/conversations/read-all")
    assert len(response.json()["read"]) == rows


# --- clear my history --------------------------------------------------------------------


@pytest.fixture
def cleared(client_for, office, consultant, receptionist):
    """A chat of three messages (one with a file) that the consultant cleared."""
    chat = make_conversation(consultant, receptionist, office=office)
    send(consultant, chat, "visa paperwork first")
    send(receptionist, chat, "visa paperwork reply")
    photo, _ = message_send_with_files(
        sender=receptionist, conversation=chat, files=[SimpleUploadedFile("p.png", png_bytes())]
    )
    response = client_for(consultant).post(f"/api/v1/conversations/{chat.id}/clear")
    assert response.status_code == 200 and response.json() == {"conversation_id": chat.id, "cleared_seq": 3}
    return chat, photo


def history(client, chat) -> list[str]:
    return [m["content"] for m in client.get(f"/api/v1/conversations/{chat.id}/messages").json()["results"]]


def test_clearing_hides_history_from_me_only_and_later_messages_show(client_for, consultant, receptionist, cleared):
    chat, _ = cleared
    me, other = client_for(consultant), client_for(receptionist)
    assert history(me, chat) == []
    assert history(other, chat) == ["visa paperwork first", "visa paperwork reply", ""]
    mine = me.get(f"/api/v1/conversations/{chat.id}").json()
    assert mine["last_message"] is None and mine["unread_count"] == 0
    assert other.get(f"/api/v1/conversations/{chat.id}").json()["last_message"]["seq"] == 3

    send(receptionist, chat, "visa paperwork after")
    assert history(me, chat) == ["visa paperwork after"]
    assert me.get(f"/api/v1/conversations/{chat.id}/messages?after=0").json()["results"][0]["seq"] == 4
    listed = me.get("/api/v1/conversations").json()["results"][0]
    assert listed["last_message"]["content"] == "visa paperwork after" and listed["unread_count"] == 1


def test_cleared_messages_are_hidden_from_search_export_files_and_actions(
    client_for, consultant, receptionist, manager, cleared
):
    chat, photo = cleared
    send(consultant, chat, "visa paperwork after")
    me = client_for(consultant)
    found = me.get("/api/v1/messages/search", {"q": "visa paperwork"}).json()["results"]
    assert [hit["content"] for hit in found] == ["visa paperwork after"]
    assert len(client_for(receptionist).get("/api/v1/messages/search", {"q": "visa paperwork"}).json()["results"]) == 3
    exported = json.loads(b"".join(me.get(f"/api/v1/conversations/{chat.id}/export?format=json").streaming_content))
    assert [m["content"] for m in exported["messages"]] == ["visa paperwork after"]
    csv_rows = b"".join(me.get(f"/api/v1/conversations/{chat.id}/export?format=csv").streaming_content).decode()
    assert "visa paperwork first" not in csv_rows and "visa paperwork after" in csv_rows
    url = f"/api/v1/attachments/{photo.loaded_attachments[0].id}/download"
    assert me.get(url).status_code == 404
    assert client_for(receptionist).get(url).status_code == 200
    first = chat.messages.get(seq=1)
    assert me.put(f"/api/v1/messages/{first.id}", {"content": "edited"}).status_code == 404
    assert me.patch(f"/api/v1/messages/{first.id}/read").status_code == 404
    # monitoring staff are not the person who cleared: they still read everything (audited)
    assert len(client_for(manager).get(f"/api/v1/conversations/{chat.id}/messages").json()["results"]) == 4


def test_clearing_is_pushed_to_my_own_sockets(
    client_for, office, consultant, receptionist, inbox, django_capture_on_commit_callbacks
):
    chat = make_conversation(consultant, receptionist, office=office)
    send(receptionist, chat, "hello")
    mine, theirs = inbox(consultant), inbox(receptionist)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(consultant).post(f"/api/v1/conversations/{chat.id}/clear")
    assert ("conversation_cleared", {"conversation_id": chat.id, "cleared_seq": 1}) in mine()
    assert [event for event, _ in theirs()] == ["message_read"]  # the read pointer moved, nothing else


def test_clearing_is_for_participants_only(client_for, office, consultant, receptionist, manager, other_consultant):
    chat = make_conversation(consultant, receptionist, office=office)
    send(receptionist, chat, "hello")
    for outsider in (manager, other_consultant):  # a monitor too: it is a participant's own history
        response = client_for(outsider).post(f"/api/v1/conversations/{chat.id}/clear")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client_for(consultant).post("/api/v1/conversations/999999999/clear").status_code == 404
    assert not Participant.objects.filter(conversation=chat, cleared_seq__gt=0).exists()


def test_clearing_an_empty_conversation_is_a_no_op(client_for, office, consultant, receptionist):
    chat = make_conversation(consultant, receptionist, office=office)
    response = client_for(consultant).post(f"/api/v1/conversations/{chat.id}/clear")
    assert response.status_code == 200 and response.json()["cleared_seq"] == 0
    send(receptionist, chat, "first ever")
    assert history(client_for(consultant), chat) == ["first ever"]


@pytest.mark.parametrize("rows", [3, 30])
def test_clear_query_count_is_fixed(rows, client_for, office, consultant, receptionist, django_assert_num_queries):
    chat = make_conversation(consultant, receptionist, office=office)
    for n in range(rows):
        send(receptionist, chat, f"m{n}")
    client = client_for(consultant)
    # user; membership; savepoint; the row locked with its conversation; the pointers; members; release
    with django_assert_num_queries(7):
        assert client.post(f"/api/v1/conversations/{chat.id}/clear").json()["cleared_seq"] == rows


# --- the direct conversation with a user, get or create -------------------------------------


def test_direct_get_or_create(client_for, office, consultant, receptionist, django_assert_num_queries):
    me = client_for(consultant)
    assert me.get(f"/api/v1/conversations/direct/{receptionist.id}").status_code == 404
    created = me.post(f"/api/v1/conversations/direct/{receptionist.id}")
    assert created.status_code == 201
    body = created.json()
    assert body["type"] == "direct" and {p["id"] for p in body["participants"]} == {consultant.id, receptionist.id}
    with django_assert_num_queries(5):  # user; lookup; conversation; participants; the caller's row
        again = me.post(f"/api/v1/conversations/direct/{receptionist.id}")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    theirs = client_for(receptionist).post(f"/api/v1/conversations/direct/{consultant.id}")
    assert theirs.status_code == 200 and theirs.json()["id"] == body["id"]
    assert me.get(f"/api/v1/conversations/direct/{receptionist.id}").json()["id"] == body["id"]
    assert Conversation.objects.filter(type="direct").count() == 1  # the database's unique pair rule


def test_direct_get_or_create_follows_the_role_rules(client_for, office, consultant, other_consultant, student):
    outsider = StudentFactory()  # no office, no lead with this consultant: not someone they may contact
    for target in (other_consultant, outsider):
        response = client_for(consultant).post(f"/api/v1/conversations/direct/{target.id}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "participant_not_found"
    for missing in (10**6, 10**30):
        assert client_for(consultant).post(f"/api/v1/conversations/direct/{missing}").status_code == 404
    myself = client_for(consultant).post(f"/api/v1/conversations/direct/{consultant.id}")
    assert myself.status_code == 400 and myself.json()["error"]["code"] == "invalid_participants"
    assert not Conversation.objects.exists()


def test_direct_get_or_create_returns_an_automatic_conversation_outside_the_role_rules(client_for, office, consultant):
    outsider = StudentFactory()  # the consultant could not start this one, but the system opened it
    opened = conversation_ensure_direct(user_a=consultant, user_b=outsider)
    response = client_for(consultant).post(f"/api/v1/conversations/direct/{outsider.id}")
    assert response.status_code == 200 and response.json()["id"] == opened.id


# --- unread total ----------------------------------------------------------------------


def test_unread_total_counts_my_conversations_only(client_for, office, consultant, receptionist, other_consultant):
    client = client_for(consultant)
    assert client.get("/api/v1/conversations/unread-count").json() == {"unread_count": 0, "unread_conversations": 0}
    first = make_conversation(consultant, receptionist, office=office)
    second = make_conversation(consultant, receptionist, office=office)
    elsewhere = make_conversation(receptionist, other_consultant, office=office)
    for _ in range(3):
        send(receptionist, first, "x")
    send(receptionist, second, "y")
    send(receptionist, elsewhere, "not mine")
    client.patch(f"/api/v1/conversations/{second.id}", {"is_archived": True, "muted_until": "2999-01-01T00:00:00Z"})
    assert client.get("/api/v1/conversations/unread-count").json() == {"unread_count": 4, "unread_conversations": 2}
    client.patch(f"/api/v1/conversations/{first.id}/read", {"seq": 2})
    assert client.get("/api/v1/conversations/unread-count").json() == {"unread_count": 2, "unread_conversations": 2}


@pytest.mark.parametrize("rows", [3, 20])
def test_unread_total_query_count_is_fixed(rows, client_for, office, consultant, django_assert_num_queries):
    for _ in range(rows):
        other = ConsultantFactory(office=office)
        send(other, make_conversation(consultant, other, office=office), "hi")
    client = client_for(consultant)
    with django_assert_num_queries(2):  # user; one aggregate
        assert client.get("/api/v1/conversations/unread-count").json()["unread_count"] == rows


# --- named paths never fall through to an id route -------------------------------------------


@pytest.mark.parametrize(
    "method,path",
    [
        ("patch", "messages/unread-count"),
        ("put", "messages/unread-count"),
        ("delete", "messages/unread-count"),
        ("get", "messages/unread-count"),
        ("patch", "messages/upload/read"),
        ("get", "conversations/unread/messages"),
        ("patch", "conversations/read-all/read"),
        ("delete", "conversations/direct"),
        ("patch", "conversations/abc"),
        ("delete", "messages/search/x"),
        ("post", "conversations/monitoring/office/abc"),
    ],
)
def test_a_mistyped_named_path_is_a_404_never_a_body_error(client_for, consultant, method, path):
    response = getattr(client_for(consultant), method)(f"/api/v1/{path}", {"content": ""})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- MESSAGE_SEARCH_ENABLED (a setting of the original product) ------------------------------


def test_search_can_be_turned_off(client_for, settings, office, consultant, receptionist):
    send(consultant, make_conversation(consultant, receptionist, office=office), "visa question")
    client = client_for(consultant)
    assert len(client.get("/api/v1/messages/search", {"q": "visa"}).json()["results"]) == 1
    settings.MESSAGE_SEARCH_ENABLED = False
    response = client.get("/api/v1/messages/search", {"q": "visa"})
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "search_disabled",
        "message": "Message search is turned off on this server.",
        "details": {},
    }
