import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import ConsultantFactory, ManagerFactory, StudentFactory
from core.tests.test_uploads import png_bytes
from leads.tests.factories import LeadFactory
from messaging import events, services
from messaging.models import Conversation, Message, MessageType, MonitoringAudit, Participant
from messaging.services import message_send_with_files
from messaging.tests.factories import make_conversation, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(office, consultant, receptionist):
    conversation = make_conversation(consultant, receptionist, title="Front desk", office=office)
    for i in range(3):
        send(consultant if i % 2 == 0 else receptionist, conversation, f"message {i}")
    return conversation


def test_send_over_rest_returns_the_message(client_for, consultant, chat):
    response = client_for(consultant).post(
        "/api/v1/messages", {"conversation_id": chat.id, "content": "hi there", "client_id": "c-1"}
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "conversation_id",
        "seq",
        "sender_id",
        "sender",
        "type",
        "content",
        "reply_to_id",
        "attachments",
        "created_at",
        "edited_at",
        "deleted",
    }
    assert body["seq"] == 4 and body["sender"]["email"] == consultant.email
    repeat = client_for(consultant).post(
        "/api/v1/messages", {"conversation_id": chat.id, "content": "hi there", "client_id": "c-1"}
    )
    assert repeat.status_code == 200 and repeat.json()["id"] == body["id"]


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"content": "x"}, 400, "validation_error"),
        ({"conversation_id": "abc", "content": "x"}, 400, "validation_error"),
        ({"conversation_id": 999999, "content": "x"}, 404, "not_found"),
        ({"content": "x" * 10001}, 400, "message_too_long"),
        ({"content": ""}, 400, "empty_message"),
        ({"content": "x", "type": "system"}, 400, "validation_error"),
        ({"content": "x", "client_id": "c" * 65}, 400, "validation_error"),
        ({"content": "x", "reply_to_id": 999999}, 400, "invalid_reply_to"),
    ],
)
def test_bad_sends(client_for, consultant, chat, payload, status, code):
    if "conversation_id" not in payload and payload != {"content": "x"}:
        payload = {"conversation_id": chat.id, **payload}
    response = client_for(consultant).post("/api/v1/messages", payload)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert Message.objects.filter(conversation=chat).count() == 3


def test_outsiders_get_404_everywhere(client_for, other_consultant, student, chat):
    message = chat.messages.first()
    for outsider in (other_consultant, student):
        client = client_for(outsider)
        assert client.get(f"/api/v1/conversations/{chat.id}").status_code == 404
        assert client.get(f"/api/v1/conversations/{chat.id}/messages").status_code == 404
        assert client.get(f"/api/v1/conversations/{chat.id}/participants").status_code == 404
        assert client.get(f"/api/v1/conversations/{chat.id}/export?format=csv").status_code == 404
        assert client.patch(f"/api/v1/conversations/{chat.id}/read").status_code == 404
        assert client.post("/api/v1/messages", {"conversation_id": chat.id, "content": "x"}).status_code == 404
        assert client.put(f"/api/v1/messages/{message.id}", {"content": "x"}).status_code == 404
        assert client.delete(f"/api/v1/messages/{message.id}").status_code == 404
        assert client.patch(f"/api/v1/messages/{message.id}/read").status_code == 404
        assert client.get("/api/v1/messages/search?q=message").json()["results"] == []


def test_conversation_list_has_last_message_and_unread_counts(client_for, consultant, receptionist, chat, office):
    quiet = make_conversation(consultant, receptionist, title="Quiet", office=office)
    send(consultant, chat, "message 2")
    body = client_for(receptionist).get("/api/v1/conversations").json()
    assert [c["id"] for c in body["results"]] == [chat.id, quiet.id]  # most recent activity first
    first = body["results"][0]
    assert first["last_message"]["content"] == "message 2"
    assert first["unread_count"] == 2  # receptionist wrote seq 2; seq 3 and 4 are new to them
    client_for(receptionist).patch(f"/api/v1/conversations/{chat.id}/read")
    assert client_for(receptionist).get("/api/v1/conversations").json()["results"][0]["unread_count"] == 0


@pytest.mark.parametrize("rows", [3, 15])
def test_conversation_list_query_count_is_fixed(rows, client_for, consultant, office, django_assert_num_queries):
    for n in range(rows):
        other = ConsultantFactory(office=office)
        conversation = make_conversation(consultant, other, office=office)
        send(other, conversation, f"hello {n}")
    client = client_for(consultant)
    # user, page of memberships (conversation + last message + sender joined), attachments, participants
    with django_assert_num_queries(4):
        response = client.get("/api/v1/conversations?limit=50")
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", [3, 40])
def test_message_page_query_count_is_fixed(
    rows, client_for, consultant, receptionist, office, django_assert_num_queries
):
    conversation = make_conversation(consultant, receptionist, office=office)
    for n in range(rows):
        send(consultant, conversation, f"m{n}")
    client = client_for(consultant)
    # user; page with the membership check, senders joined and files aggregated in the same statement
    with django_assert_num_queries(2):
        response = client.get(f"/api/v1/conversations/{conversation.id}/messages?limit=100")
    assert [m["seq"] for m in response.json()["results"]] == list(range(1, rows + 1))


@pytest.mark.parametrize("rows", [3, 12])
def test_message_page_with_files_adds_no_query(
    rows, client_for, consultant, receptionist, office, django_assert_num_queries
):
    conversation = make_conversation(consultant, receptionist, office=office)
    for n in range(rows):
        message_send_with_files(
            sender=consultant, conversation=conversation, files=[SimpleUploadedFile(f"{n}.png", png_bytes())]
        )
    client = client_for(consultant)
    with django_assert_num_queries(2):
        response = client.get(f"/api/v1/conversations/{conversation.id}/messages?limit=100")
    assert (
        all(len(m["attachments"]) == 1 for m in response.json()["results"]) and len(response.json()["results"]) == rows
    )


def test_message_page_is_the_event_representation(client_for, consultant, receptionist, office):
    """The page is read in raw SQL for speed; it must stay exactly what socket events carry."""
    conversation = make_conversation(consultant, receptionist, office=office)
    first = send(consultant, conversation, "first")
    send(receptionist, conversation, "a reply", reply_to_id=first.id)
    services.message_edit(actor=consultant, message=first, content="first, edited")
    services.message_delete(actor=receptionist, message=send(receptionist, conversation, "gone"))
    message_send_with_files(
        sender=consultant,
        conversation=conversation,
        content="two files",
        files=[SimpleUploadedFile("a.png", png_bytes()), SimpleUploadedFile("b.png", png_bytes())],
    )
    Message.objects.create(
        conversation=conversation,
        seq=Message.objects.filter(conversation=conversation).count() + 1,
        sender=None,
        type=MessageType.SYSTEM,
        content="someone joined",
    )
    expected = [
        events.message_payload(m)
        for m in Message.objects.filter(conversation=conversation).select_related("sender").order_by("seq")
    ]
    assert any(m["attachments"] for m in expected) and any(m["deleted"] for m in expected)
    assert any(m["edited_at"] for m in expected) and any(m["sender"] is None for m in expected)
    for user in (consultant, receptionist):
        assert client_for(user).get(f"/api/v1/conversations/{conversation.id}/messages").json()["results"] == expected
    scrolled = client_for(consultant).get(f"/api/v1/conversations/{conversation.id}/messages?limit=2").json()
    assert scrolled["results"] == expected[-2:]
    assert client_for(consultant).get(scrolled["next"]).json()["results"] == expected[-4:-2]


def test_message_page_of_an_empty_conversation_and_of_strangers(client_for, consultant, receptionist, office):
    conversation = make_conversation(consultant, receptionist, office=office)
    assert client_for(consultant).get(f"/api/v1/conversations/{conversation.id}/messages").json() == {
        "results": [],
        "next": None,
    }
    send(consultant, conversation, "hi")
    assert (
        client_for(consultant).get(f"/api/v1/conversations/{conversation.id}/messages?after=1").json()["results"] == []
    )
    stranger = client_for(ConsultantFactory(office=office))
    for path in (conversation.id, 10**30, "abc", 0, conversation.id + 1000):
        response = stranger.get(f"/api/v1/conversations/{path}/messages")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert (
        client_for(consultant).get(f"/api/v1/conversations/{conversation.id}/messages?before={10**30}").status_code
        == 200
    )
    assert not MonitoringAudit.objects.exists()


def test_keyset_paging_both_ways(client_for, consultant, receptionist, office):
    conversation = make_conversation(consultant, receptionist, office=office)
    for n in range(7):
        send(consultant, conversation, f"m{n}")
    client = client_for(receptionist)
    latest = client.get(f"/api/v1/conversations/{conversation.id}/messages?limit=3").json()
    assert [m["seq"] for m in latest["results"]] == [5, 6, 7]
    older = client.get(latest["next"]).json()
    assert [m["seq"] for m in older["results"]] == [2, 3, 4]
    catch_up = client.get(f"/api/v1/conversations/{conversation.id}/messages?after=4&limit=2").json()
    assert [m["seq"] for m in catch_up["results"]] == [5, 6]
    rest = client.get(catch_up["next"]).json()
    assert [m["seq"] for m in rest["results"]] == [7] and rest["next"] is None
    for bad in ("before=0", "after=-1", "limit=0", "limit=500", "before=2&after=1", "after=abc"):
        assert client.get(f"/api/v1/conversations/{conversation.id}/messages?{bad}").status_code == 400


def test_deleted_content_disappears_from_reads_search_and_export(client_for, consultant, receptionist, chat):
    secret = send(consultant, chat, "launch codes zebra")
    client = client_for(consultant)
    assert client.delete(f"/api/v1/messages/{secret.id}").status_code == 204
    page = client_for(receptionist).get(f"/api/v1/conversations/{chat.id}/messages").json()["results"]
    deleted = next(m for m in page if m["id"] == secret.id)
    assert deleted["deleted"] is True and deleted["content"] == ""
    assert client.get("/api/v1/messages/search?q=zebra").json()["results"] == []
    export = b"".join(client.get(f"/api/v1/conversations/{chat.id}/export?format=csv").streaming_content)
    assert b"zebra" not in export
    assert Message.objects.get(pk=secret.id).content == "launch codes zebra"  # kept for audit


def test_edit_over_rest(client_for, consultant, receptionist, chat):
    mine = send(consultant, chat, "tpyo")
    assert client_for(consultant).put(f"/api/v1/messages/{mine.id}", {"content": "typo"}).json()["content"] == "typo"
    assert client_for(receptionist).put(f"/api/v1/messages/{mine.id}", {"content": "x"}).status_code == 403


def test_search_ranks_highlights_and_escapes(client_for, consultant, receptionist, chat):
    send(consultant, chat, "<script>alert(1)</script> visa fee 5 < 6 & more tomorrow")
    send(consultant, chat, "visa visa visa documents")
    client = client_for(receptionist)
    body = client.get("/api/v1/messages/search?q=visa").json()
    assert len(body["results"]) == 2
    assert body["results"][0]["content"] == "visa visa visa documents"
    highlights = " ".join(hit["highlight"] for hit in body["results"])
    assert "<mark>visa</mark>" in highlights.lower() or "<mark>Visa</mark>" in highlights
    assert "<script" not in highlights and "&lt; 6 &amp; more" in highlights
    # websearch syntax: any user text is safe input
    for query in [
        '"visa appointment"',
        "visa -documents",
        "visa OR nothing",
        "'); DROP TABLE x; --",
        "((((",
        "&|!:*",
        "back\\slash \\' $$ $q$ %s %(x)s {} visa",
    ]:
        response = client.get("/api/v1/messages/search", {"q": query})
        assert response.status_code == 200, query
    assert len(client.get("/api/v1/messages/search", {"q": "visa -documents"}).json()["results"]) == 1
    assert client.get("/api/v1/messages/search").status_code == 400
    assert client.get("/api/v1/messages/search", {"q": "x" * 201}).status_code == 400
    assert client.get("/api/v1/messages/search", {"q": "visa\x00"}).json()["error"]["code"] == "validation_error"


def test_search_filters(client_for, consultant, receptionist, chat, office):
    other = make_conversation(consultant, receptionist, office=office)
    send(receptionist, other, "passport copy")
    send(consultant, chat, "passport scan")
    client = client_for(consultant)
    assert len(client.get("/api/v1/messages/search", {"q": "passport"}).json()["results"]) == 2
    assert (
        len(client.get("/api/v1/messages/search", {"q": "passport", "conversation_id": other.id}).json()["results"])
        == 1
    )
    assert (
        len(client.get("/api/v1/messages/search", {"q": "passport", "sender_id": consultant.id}).json()["results"]) == 1
    )
    assert (
        client.get(
            "/api/v1/messages/search",
            {"q": "passport", "date_from": "2000-01-01T00:00:00Z", "date_to": "2001-01-01T00:00:00Z"},
        ).json()["results"]
        == []
    )
    assert client.get("/api/v1/messages/search", {"q": "passport", "file_type": "<bad>"}).status_code == 400


def add_messages(conversation, sender, contents):
    """Messages in this order (ascending ids), without the send service's per-message work."""
    conversation.refresh_from_db(fields=["last_seq"])
    first = conversation.last_seq + 1
    messages = Message.objects.bulk_create(
        [
            Message(conversation=conversation, sender=sender, seq=first + i, content=text)
            for i, text in enumerate(contents)
        ]
    )
    conversation.last_seq = messages[-1].seq
    conversation.save(update_fields=["last_seq"])
    return messages


TOP = 10**7  # explicit ids, far above the sequence's: a layout's matches sit at exact depths


# With N candidates the search walks the newest 20·N ids (the probe: 60 for 3), walks on when it
# expects the rest within 60·N ids, else reads bitmaps; the sixth step after the probe takes every id left.
@pytest.mark.parametrize(
    "candidates, depths, steps",
    [
        (3, [0, 1, 2, 3], ["walk"]),  # the probe fills the candidates
        (3, [0, 100, 110, 120], ["walk", "walk"]),  # one hit in 60 ids: the rest expected within 120
        (3, [0, 700, 710, 720], ["walk", "walk", "bitmaps"]),  # that walk finds nothing: 4,320 ids through bitmaps
        (3, [80, 90, 100, 110], ["walk", "bitmaps"]),  # an empty probe: 19 times as many ids, through bitmaps
        (3, [30_000, 400_000, 900_000, 950_000], ["walk"] + ["bitmaps"] * 4),  # rare and old
        (
            3,
            [30_000, 400_000, 9_000_000, 9_500_000],
            ["walk"] + ["bitmaps"] * 6,
        ),  # older still: the last step takes all
        # dense, then none: the hit rate would have the last step walk every id left; it reads bitmaps
        (1000, [*range(999), 9_000_000, 9_500_000], ["walk"] * 6 + ["bitmaps"]),
    ],
)
def test_search_ranks_exactly_the_newest_matches(
    candidates, depths, steps, settings, client_for, consultant, receptionist, office
):
    settings.MESSAGE_SEARCH_MAX_CANDIDATES = candidates
    conversation = make_conversation(consultant, receptionist, office=office)
    hidden = make_conversation(receptionist, ManagerFactory(office=office), office=office)
    Message.objects.bulk_create(
        [
            Message(id=TOP - depth, conversation=conversation, sender=receptionist, seq=seq, content="visa")
            for seq, depth in enumerate(sorted(depths, reverse=True), start=1)
        ]
        # newer matches the consultant may not read, or that were deleted: never candidates
        + [
            Message(id=TOP + seq, conversation=hidden, sender=receptionist, seq=seq, content="visa visa")
            for seq in (1, 2, 3)
        ]
        + [
            Message(
                id=TOP + 4,
                conversation=conversation,
                sender=receptionist,
                seq=len(depths) + 1,
                content="visa visa visa",
                deleted_at=timezone.now(),
            )
        ]
    )
    conversation.last_seq, hidden.last_seq = len(depths) + 1, 3
    Conversation.objects.bulk_update([conversation, hidden], ["last_seq"])
    with CaptureQueriesContext(connection) as queries:
        # the last page of candidates
        body = (
            client_for(consultant)
            .get("/api/v1/messages/search", {"q": "visa", "limit": 20, "offset": max(0, candidates - 10)})
            .json()
        )
    # equal ranks, so newest first; the oldest match is not among the candidates
    assert [hit["id"] for hit in body["results"]] == [TOP - depth for depth in sorted(depths)[:candidates]][-10:]
    assert body["next"] is None
    statements = [q["sql"] or "" for q in queries.captured_queries]
    taken = [
        "bitmaps" if "SET LOCAL enable_indexscan = off" in sql else "walk" for sql in statements if "ts_rank" in sql
    ]
    assert taken == steps
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_indexscan")
        assert cursor.fetchone()[0] == "on"  # index scans are off only while the bitmap step runs


def test_search_candidates_are_the_newest_not_the_best(settings, client_for, consultant, receptionist, chat):
    settings.MESSAGE_SEARCH_MAX_CANDIDATES = 2
    best, *_ = add_messages(chat, consultant, ["visa visa visa visa", "visa", "visa"])
    hits = client_for(receptionist).get("/api/v1/messages/search", {"q": "visa"}).json()["results"]
    assert len(hits) == 2 and best.id not in {hit["id"] for hit in hits}


def test_search_reaches_monitors_in_scope_only(
    client_for, office, other_office, consultant, receptionist, manager, other_manager, super_admin, other_consultant
):
    here = make_conversation(consultant, receptionist, office=office)
    there = make_conversation(other_consultant, ManagerFactory(office=other_office), office=other_office)
    send(consultant, here, "scholarship deadline")
    send(other_consultant, there, "scholarship interview")

    def found(user):
        return sorted(
            hit["conversation_id"]
            for hit in client_for(user).get("/api/v1/messages/search", {"q": "scholarship"}).json()["results"]
        )

    assert found(manager) == [here.id]
    assert found(other_manager) == [there.id]
    assert found(super_admin) == sorted([here.id, there.id])
    assert found(StudentFactory()) == []
    outside = client_for(consultant).get("/api/v1/messages/search", {"q": "scholarship", "conversation_id": there.id})
    assert outside.status_code == 200 and outside.json()["results"] == []


@pytest.mark.parametrize("rows", [3, 15])
def test_search_query_count_is_fixed(
    rows,
    client_for,
    consultant,
    receptionist,
    super_admin,
    office,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    conversation = make_conversation(consultant, receptionist, office=office)
    add_messages(conversation, receptionist, [f"visa appointment {n}" for n in range(rows)])
    as_consultant, as_admin = client_for(consultant), client_for(super_admin)
    # user, readable conversations, ranked page, its rows with snippets and senders (text: no file query)
    with django_assert_num_queries(4):
        response = as_consultant.get("/api/v1/messages/search", {"q": "visa", "limit": 50})
    assert len(response.json()["results"]) == rows
    # a super admin reads every conversation: no list of them to fetch, but the newest id and the
    # probe, then up to six steps down the ids (how many depends on the ids, not on the rows)
    with django_assert_max_num_queries(10):
        response = as_admin.get("/api/v1/messages/search", {"q": "visa", "limit": 50})
    assert len(response.json()["results"]) == rows


def test_create_conversation_over_rest(client_for, office, consultant, receptionist, other_consultant):
    client = client_for(consultant)
    created = client.post("/api/v1/conversations", {"type": "direct", "participant_ids": [receptionist.id]})
    assert created.status_code == 201
    again = client.post("/api/v1/conversations", {"type": "direct", "participant_ids": [receptionist.id]})
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert client.get(f"/api/v1/conversations/direct/{receptionist.id}").json()["id"] == created.json()["id"]
    assert client.get(f"/api/v1/conversations/direct/{other_consultant.id}").status_code == 404
    hidden = client.post("/api/v1/conversations", {"type": "direct", "participant_ids": [other_consultant.id]})
    assert hidden.status_code == 404
    for bad in (
        {"type": "direct", "participant_ids": []},
        {"type": "circle", "participant_ids": [receptionist.id]},
        {"type": "group", "participant_ids": ["x"]},
        {"type": "direct", "participant_ids": [consultant.id]},
    ):
        assert client.post("/api/v1/conversations", bad).status_code == 400, bad


def test_suggested_contacts_follow_the_role_table(
    client_for, office, consultant, receptionist, manager, other_consultant
):
    student = StudentFactory(office=office)
    LeadFactory(office=office, student=student, assigned_to=consultant)
    ids = {u["id"] for u in client_for(student).get("/api/v1/conversations/suggested-contacts").json()["results"]}
    assert ids == {consultant.id, receptionist.id, manager.id}
    staff_ids = {
        u["id"] for u in client_for(consultant).get("/api/v1/conversations/suggested-contacts").json()["results"]
    }
    assert other_consultant.id not in staff_ids and student.id in staff_ids


def test_patch_conversation_flags_and_title(client_for, consultant, receptionist, chat):
    client = client_for(receptionist)
    body = client.patch(f"/api/v1/conversations/{chat.id}", {"is_pinned": True, "is_archived": True}).json()
    assert body["is_pinned"] and body["is_archived"]
    assert client.get("/api/v1/conversations?archived=false").json()["results"] == []
    assert [c["id"] for c in client.get("/api/v1/conversations?pinned=true").json()["results"]] == [chat.id]
    assert client.patch(f"/api/v1/conversations/{chat.id}", {"title": "Mine now"}).status_code == 403
    assert client_for(consultant).patch(f"/api/v1/conversations/{chat.id}", {"title": "Desk"}).json()["title"] == "Desk"
    # flags are per user
    assert client_for(consultant).get(f"/api/v1/conversations/{chat.id}").json()["is_pinned"] is False


def test_participants_endpoints(client_for, office, consultant, receptionist, manager, chat):
    client = client_for(consultant)
    assert {p["id"] for p in client.get(f"/api/v1/conversations/{chat.id}/participants").json()["results"]} == {
        consultant.id,
        receptionist.id,
    }
    assert client.post(f"/api/v1/conversations/{chat.id}/participants", {"user_ids": [manager.id]}).status_code == 200
    assert client.delete(f"/api/v1/conversations/{chat.id}/participants/{manager.id}").status_code == 204
    assert (
        client_for(manager).get(f"/api/v1/conversations/{chat.id}/messages").status_code == 200
    )  # monitors still read
    assert client_for(receptionist).post(f"/api/v1/conversations/{chat.id}/leave").status_code == 204
    assert client_for(receptionist).get(f"/api/v1/conversations/{chat.id}").status_code == 404


def test_monitoring_is_scoped_and_audited(client_for, office, manager, other_manager, super_admin, chat):
    listing = client_for(manager).get(f"/api/v1/conversations/monitoring/office/{office.id}")
    assert listing.status_code == 200 and [c["id"] for c in listing.json()["results"]] == [chat.id]
    assert client_for(other_manager).get(f"/api/v1/conversations/monitoring/office/{office.id}").status_code == 404
    assert client_for(manager).get("/api/v1/conversations/monitoring/all").status_code == 403
    assert client_for(super_admin).get("/api/v1/conversations/monitoring/all").status_code == 200
    assert client_for(manager).get(f"/api/v1/conversations/{chat.id}/messages").status_code == 200
    assert client_for(other_manager).get(f"/api/v1/conversations/{chat.id}/messages").status_code == 404
    actions = list(MonitoringAudit.objects.filter(actor=manager).values_list("action", flat=True))
    assert sorted(actions) == ["monitor_list", "monitor_read"]
    audit = client_for(super_admin).get("/api/v1/conversations/monitoring/audit").json()["results"]
    assert {row["action"] for row in audit} >= {"monitor_list", "monitor_read"}
    assert client_for(manager).get("/api/v1/conversations/monitoring/audit").status_code == 403


def test_participants_reads_are_not_audited(client_for, consultant, chat):
    client_for(consultant).get(f"/api/v1/conversations/{chat.id}/messages")
    client_for(consultant).get(f"/api/v1/conversations/{chat.id}/export")
    assert not MonitoringAudit.objects.exists()


def test_export_streams_csv_and_json(client_for, consultant, manager, chat):
    send(consultant, chat, '=HYPERLINK("http://evil")')
    csv_response = client_for(consultant).get(f"/api/v1/conversations/{chat.id}/export?format=csv")
    assert csv_response.status_code == 200 and csv_response.streaming
    text = b"".join(csv_response.streaming_content).decode()
    assert text.splitlines()[0].startswith("seq,created_at,sender_email")
    assert "'=HYPERLINK" in text  # formula injection neutralised
    json_response = client_for(manager).get(f"/api/v1/conversations/{chat.id}/export?format=json")
    body = json.loads(b"".join(json_response.streaming_content))
    assert [m["seq"] for m in body["messages"]] == [1, 2, 3, 4]
    assert MonitoringAudit.objects.filter(actor=manager, action="export").count() == 1
    assert client_for(consultant).get(f"/api/v1/conversations/{chat.id}/export?format=xml").status_code == 400


def test_read_receipt_over_rest(client_for, consultant, receptionist, chat):
    last = chat.messages.order_by("-seq").first()
    response = client_for(receptionist).patch(f"/api/v1/messages/{last.id}/read")
    assert response.json() == {"conversation_id": chat.id, "seq": last.seq}
    assert Participant.objects.get(conversation=chat, user=receptionist).last_read_seq == last.seq
