"""GET sync?since=<cursor>: everything of the caller's that changed since the cursor, in one call, never
losing a change that commits late (the cursor is a database snapshot, not an id or a time)."""

import random
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.db import connection, transaction

from accounts.tests.factories import ConsultantFactory
from messaging import services
from messaging.api import sync as sync_view
from messaging.models import Message
from messaging.selectors import sync as sync_selector
from messaging.tests.factories import make_conversation, send
from notifications.services import notification_create, notification_mark_read

# Committed transactions: in a test's one transaction every write would stay "in progress" to each snapshot.
pytestmark = pytest.mark.django_db(transaction=True)

SYNC = "/api/v1/sync"


@pytest.fixture
def me(office):
    return ConsultantFactory(office=office)


@pytest.fixture
def colleague(office):
    return ConsultantFactory(office=office)


def sync(client, cursor=None):
    response = client.get(SYNC, {"since": cursor} if cursor else {})
    assert response.status_code == 200, response.content
    return response.json()


def nothing_new(answer, before):
    """A repeat holds nothing the client did not have (changes that committed while an older
    transaction, of any database of the server, was still running may come again)."""
    messages = {(m["id"], m["content"], m["deleted"]) for m in before["messages"]}
    return {(m["id"], m["content"], m["deleted"]) for m in answer["messages"]} <= messages and {
        n["id"] for n in answer["notifications"]
    } <= {n["id"] for n in before["notifications"]}


def test_without_since_a_fresh_cursor_and_nothing_else(client_for, me):
    body = sync(client_for(me))
    assert body["cursor"] and body["more"] is False
    assert [
        body[key] for key in ("conversations", "messages", "truncated", "read_marks", "cleared", "notifications")
    ] == [
        [],
        [],
        [],
        [],
        [],
        [],
    ]


def test_what_changed_comes_once(client_for, me, colleague):
    client = client_for(me)
    chat = make_conversation(me, colleague)
    cursor = sync(client)["cursor"]
    first = send(colleague, chat, "one")
    send(colleague, chat, "two")
    notification_create(recipient=me, kind="lead_assigned", title="A lead for you", data={"lead_id": 1})

    body = sync(client, cursor)
    assert [c["id"] for c in body["conversations"]] == [chat.id]
    assert body["conversations"][0]["unread_count"] == 2 and body["conversations"][0]["last_seq"] == 2
    assert [(m["seq"], m["content"]) for m in body["messages"]] == [(1, "one"), (2, "two")]
    assert {(r["user_id"], r["seq"]) for r in body["read_marks"]} == {(me.id, 0), (colleague.id, 2)}
    assert [n["title"] for n in body["notifications"]] == ["A lead for you"]
    assert body["more"] is False and body["truncated"] == []

    again = sync(client, body["cursor"])
    assert nothing_new(again, body)
    # nothing else ran in this database meanwhile: not even a repeat
    assert again["conversations"] == again["messages"] == again["notifications"] == []

    # edits, deletes, reads (yours on another device, and others'), a notification read elsewhere
    services.message_edit(actor=colleague, message=first, content="one!")
    chat.refresh_from_db()
    services.conversation_mark_read(user=me, conversation=chat)
    later = sync(client, again["cursor"])
    assert (1, "one!") in [(m["seq"], m["content"]) for m in later["messages"]]
    assert {(r["user_id"], r["seq"]) for r in later["read_marks"]} == {(me.id, 2), (colleague.id, 2)}
    assert later["conversations"][0]["unread_count"] == 0
    services.message_delete(actor=colleague, message=first)
    notification_mark_read(user=me, notification_id=body["notifications"][0]["id"])
    last = sync(client, later["cursor"])
    assert (1, True, "") in [(m["seq"], m["deleted"], m["content"]) for m in last["messages"]]
    assert [n["read"] for n in last["notifications"]] == [True]


def test_an_old_message_edited_or_deleted_is_found(client_for, me, colleague):
    client = client_for(me)
    chat = make_conversation(me, colleague)
    old = send(colleague, chat, "old")
    for n in range(60):
        send(me, chat, f"filler {n}")
    cursor = sync(client)["cursor"]
    services.message_delete(actor=colleague, message=old)  # 60 messages further back than the newest
    body = sync(client, cursor)
    assert (1, True) in [(m["seq"], m["deleted"]) for m in body["messages"]]


def test_more_new_messages_than_the_cap_says_where_to_page(client_for, me, colleague, monkeypatch):
    monkeypatch.setattr(sync_selector, "MESSAGES_PER_CONVERSATION", 5)
    client = client_for(me)
    chat = make_conversation(me, colleague)
    cursor = sync(client)["cursor"]
    for n in range(8):
        send(colleague, chat, f"m{n}")
    body = sync(client, cursor)
    assert [m["seq"] for m in body["messages"]] == [4, 5, 6, 7, 8]  # the newest, oldest first
    assert body["truncated"] == [chat.id] and body["more"] is True
    # the client pages the gap with after=<its last seq>; the next sync has nothing more
    page = client.get(f"/api/v1/conversations/{chat.id}/messages?after=0&limit=3").json()
    assert [m["seq"] for m in page["results"]] == [1, 2, 3]
    assert nothing_new(sync(client, body["cursor"]), body)


def test_many_changed_conversations_come_in_several_answers(client_for, me, monkeypatch):
    monkeypatch.setattr(sync_selector, "CONVERSATIONS_PER_ANSWER", 2)
    monkeypatch.setattr(sync_selector, "NOTIFICATIONS_PER_ANSWER", 3)
    client = client_for(me)
    chats = [make_conversation(me, ConsultantFactory(office=me.office)) for _ in range(5)]
    cursor = sync(client)["cursor"]
    for chat in chats:
        send(chat.participants.exclude(user=me).get().user, chat, "hi")
    for n in range(7):
        notification_create(recipient=me, kind="lead_assigned", title=f"n{n}")
    seen, notes, answers = [], [], 0
    while True:
        body = sync(client, cursor)
        answers += 1
        seen += [c["id"] for c in body["conversations"]]
        notes += [n["title"] for n in body["notifications"]]
        cursor = body["cursor"]
        if not body["more"]:
            break
    assert sorted(seen) == sorted(c.id for c in chats) and answers == 3
    assert notes == [f"n{n}" for n in range(7)]
    send(me, chats[0], "after the last answer")
    assert chats[0].id in [c["id"] for c in sync(client, cursor)["conversations"]]


def test_nothing_of_a_conversation_you_are_not_in(client_for, me, colleague, office):
    client = client_for(me)
    others = make_conversation(colleague, ConsultantFactory(office=office))
    chat = make_conversation(colleague, me)  # colleague is the group's admin
    cursor = sync(client)["cursor"]
    send(colleague, others, "not for you")
    services.participants_remove(actor=colleague, conversation=chat, user_id=me.id)
    cursor = sync(client, cursor)["cursor"]
    send(colleague, chat, "after you left")
    body = sync(client, cursor)
    assert body["conversations"] == body["messages"] == body["read_marks"] == []


def test_a_cursor_is_the_users_and_the_servers(client_for, me, colleague):
    cursor = sync(client_for(me))["cursor"]
    for bad in (cursor[:-2] + "xx", "garbage", signing.dumps({"u": me.id}, salt="another purpose")):
        response = client_for(me).get(SYNC, {"since": bad})
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_cursor"
    stolen = client_for(colleague).get(SYNC, {"since": cursor})
    assert stolen.status_code == 400 and stolen.json()["error"]["code"] == "invalid_cursor"
    future = sync_view.encode_cursor(me.id, 2**40)
    ahead = client_for(me).get(SYNC, {"since": future})  # from before a restore: ahead of the database
    assert ahead.status_code == 400 and ahead.json()["error"]["code"] == "cursor_expired"
    with time_machine.travel(timedelta(days=31)):
        expired = client_for(me).get(SYNC, {"since": cursor})
    assert expired.status_code == 400 and expired.json()["error"]["code"] == "cursor_expired"


def test_a_fixed_number_of_queries(client_for, me, django_assert_num_queries):
    client = client_for(me)
    chats = [make_conversation(me, ConsultantFactory(office=me.office)) for _ in range(6)]
    cursor = sync(client)["cursor"]

    def change(count):
        for chat in chats[:count]:
            send(chat.participants.exclude(user=me).get().user, chat, "hi")
            notification_create(recipient=me, kind="lead_assigned", title="n")

    change(3)
    # token's user, snapshot, changed ids, memberships, their people, last messages' files, messages,
    # read marks, notifications
    with django_assert_num_queries(9):
        body = sync(client, cursor)
    assert len(body["conversations"]) == 3
    change(6)
    with django_assert_num_queries(9):
        body = sync(client, body["cursor"])
    assert len(body["conversations"]) == 6 and len(body["messages"]) == 6


def test_a_send_that_commits_after_a_later_one_is_not_lost(client_for, me, colleague, office):
    """Message A is written first (smaller id, earlier time) and commits last; a sync between B's
    commit and A's sees B. A cursor of ids or times would then skip A; the snapshot does not."""
    client = client_for(me)
    slow_chat, fast_chat = make_conversation(me, colleague), make_conversation(me, ConsultantFactory(office=office))
    cursor = sync(client)["cursor"]
    written, release = threading.Event(), threading.Event()

    def slow_send():
        try:
            with transaction.atomic():
                send(colleague, slow_chat, "A, written first")
                written.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_send)
    thread.start()
    assert written.wait(10)
    b = send(fast_chat.participants.exclude(user=me).get().user, fast_chat, "B, committed first")
    first = sync(client, cursor)
    assert "B, committed first" in [m["content"] for m in first["messages"]]
    assert "A, written first" not in [m["content"] for m in first["messages"]]  # not committed yet
    release.set()
    thread.join()
    a = Message.objects.get(content="A, written first")
    assert a.id < b.id and a.created_at < b.created_at  # what an id or time cursor would have skipped
    second = sync(client, first["cursor"])
    assert "A, written first" in [m["content"] for m in second["messages"]]


def test_concurrent_senders_and_a_syncing_client_lose_nothing(client_for, me, office):
    """Four writers send into four conversations, each holding its transaction open a random while;
    a client syncs all along. Every message reaches it."""
    client = client_for(me)
    senders = [ConsultantFactory(office=office) for _ in range(4)]
    chats = [make_conversation(me, person) for person in senders]
    cursor = sync(client)["cursor"]
    done = threading.Event()
    rng = random.Random(24)
    delays = [[rng.uniform(0, 0.05) for _ in range(15)] for _ in senders]

    def writer(person, chat, pauses):
        try:
            for n, pause in enumerate(pauses):
                with transaction.atomic():
                    send(person, chat, f"{person.id}-{n}")
                    threading.Event().wait(pause)  # commit a while after the write
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=args) for args in zip(senders, chats, delays, strict=True)]
    for thread in threads:
        thread.start()
    seen = set()
    while any(t.is_alive() for t in threads) or not done.is_set():
        if not any(t.is_alive() for t in threads):
            done.set()  # one last sync after every writer has committed
        body = sync(client, cursor)
        seen |= {m["id"] for m in body["messages"]}
        cursor = body["cursor"]
    for thread in threads:
        thread.join()
    assert seen == set(Message.objects.values_list("id", flat=True))
    assert len(seen) == 60


@pytest.mark.parametrize(
    "next_xid, xid, wide",
    [
        (2**32 + 5, 2**32 - 6, 2**32 - 6),  # from before the epoch turned
        (2**32 + 5, 10, 2**32 + 10),  # a transaction begun just after the snapshot: ahead, not an epoch back
        (1000, 999, 999),
        (1000, 1003, 1003),
    ],
)
def test_xids_are_widened_to_the_nearest_epoch(next_xid, xid, wide):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sync_selector._wide('%s')} FROM (SELECT %s::bigint AS next) nx", [xid, next_xid])
        assert cursor.fetchone()[0] == wide
