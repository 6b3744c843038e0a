"""The socket's sends stored in batches (messaging.services.loop_sends, group commit): sends that
arrive together are one database call, and each is still answered, ordered and pushed as if alone."""

import asyncio
import json
import threading
import time
from pathlib import Path

import psycopg
import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone

from core import realtime
from core.errors import NotFound, ValidationFailed
from core.realtime import members_group
from messaging import services
from messaging.models import Message
from messaging.services import loop_sends
from messaging.tests.factories import make_conversation

pytestmark = pytest.mark.django_db(transaction=True)

SQL_FILE = Path(__file__).resolve().parents[1] / "sql" / "store_batch_0011.sql"


@pytest.fixture
def batches(monkeypatch):
    """The sizes of the database calls the sends made (the real calls, counted)."""
    sizes = []
    real = loop_sends._stored_rows

    async def counted(requests):
        sizes.append(len(requests))
        return await real(requests)

    monkeypatch.setattr(loop_sends, "_stored_rows", counted)
    return sizes


def stored(conversation_id):
    return list(Message.objects.filter(conversation_id=conversation_id).order_by("seq").values_list("seq", "content"))


async def test_sends_that_arrive_together_are_one_call_in_the_order_sent(manager, consultant, batches):
    chat = await database_sync_to_async(make_conversation)(manager, consultant)
    pushed = []

    async def here(event):
        pushed.append(event["seq"])

    realtime.deliver_here(members_group(chat.pk), here)
    try:
        sent = await asyncio.gather(
            *(
                services.amessage_send(sender=manager, conversation_id=chat.pk, content=f"m{n}", client_id=f"b{n}")
                for n in range(12)
            )
        )
    finally:
        realtime.stop_delivering_here(members_group(chat.pk))
    assert batches == [12]  # all arrived before the writer's first turn
    assert [payload["content"] for payload, _ in sent] == [f"m{n}" for n in range(12)]
    assert [payload["seq"] for payload, _ in sent] == list(range(1, 13))
    assert all(created for _, created in sent)
    assert pushed == list(range(1, 13))  # each pushed once, in seq order
    assert await database_sync_to_async(stored)(chat.pk) == [(n + 1, f"m{n}") for n in range(12)]


async def test_a_refused_send_fails_alone(manager, consultant, receptionist, batches):
    chat = await database_sync_to_async(make_conversation)(manager, consultant)
    first = await services.amessage_send(sender=manager, conversation_id=chat.pk, content="first")
    results = await asyncio.gather(
        services.amessage_send(sender=manager, conversation_id=chat.pk, content="kept"),
        services.amessage_send(sender=receptionist, conversation_id=chat.pk, content="not a member"),
        services.amessage_send(sender=consultant, conversation_id=chat.pk, content="bad reply", reply_to_id=10**9),
        services.amessage_send(sender=consultant, conversation_id=chat.pk, content="kept too"),
        return_exceptions=True,
    )
    assert batches == [1, 4]
    kept, outsider, bad_reply, kept_too = results
    assert isinstance(outsider, NotFound)
    assert isinstance(bad_reply, ValidationFailed)
    assert (kept[0]["seq"], kept_too[0]["seq"]) == (2, 3)  # no seq taken by the refused ones
    assert first[0]["seq"] == 1
    assert await database_sync_to_async(stored)(chat.pk) == [(1, "first"), (2, "kept"), (3, "kept too")]


async def test_a_repeated_client_id_in_a_batch_is_answered_with_the_first_message(manager, consultant, batches):
    chat = await database_sync_to_async(make_conversation)(manager, consultant)
    await services.amessage_send(sender=manager, conversation_id=chat.pk, content="warm")
    results = await asyncio.gather(
        services.amessage_send(sender=manager, conversation_id=chat.pk, content="once", client_id="r1"),
        services.amessage_send(sender=consultant, conversation_id=chat.pk, content="other"),
        services.amessage_send(sender=manager, conversation_id=chat.pk, content="once", client_id="r1"),
    )
    (first, created), (other, _), (again, created_again) = results
    assert batches == [1, 3, 1, 1, 1]  # the batch met the unique constraint: its sends again, one by one
    assert (created, created_again) == (True, False)
    assert again["id"] == first["id"] and again["seq"] == first["seq"]
    assert other["content"] == "other"
    assert sorted(content for _, content in await database_sync_to_async(stored)(chat.pk)) == [
        "once",
        "other",
        "warm",
    ]


async def test_a_send_whose_socket_went_away_is_stored_and_pushed(manager, consultant):
    chat = await database_sync_to_async(make_conversation)(manager, consultant)
    pushed = asyncio.get_running_loop().create_future()

    async def here(event):
        pushed.set_result(json.loads(event["frame"])["data"]["content"])

    realtime.deliver_here(members_group(chat.pk), here)
    try:
        sending = asyncio.create_task(services.amessage_send(sender=manager, conversation_id=chat.pk, content="left"))
        await asyncio.sleep(0)  # handed to a writer
        sending.cancel()  # the socket closed: its task is cancelled
        assert await asyncio.wait_for(pushed, 5) == "left"
    finally:
        realtime.stop_delivering_here(members_group(chat.pk))
    assert await database_sync_to_async(stored)(chat.pk) == [(1, "left")]


def test_the_database_runs_the_batch_file():
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'messaging_message_store_batch'")
        (body,) = cursor.fetchone()
    assert body == SQL_FILE.read_text().split("$$", 2)[1]


def test_a_batch_locks_its_conversations_in_id_order_before_storing(manager, consultant):
    """Conversations are locked lowest id first whatever the order of the sends, so two batches
    (of two processes) never hold one each while waiting for the other's."""
    low, high = make_conversation(manager, consultant), make_conversation(manager, consultant)
    params = {**connection.get_connection_params(), "cursor_factory": psycopg.Cursor}
    with psycopg.connect(**params) as holder, psycopg.connect(**params, autocommit=True) as watcher:
        holder.execute("SELECT 1 FROM messaging_conversation WHERE id = %s FOR UPDATE", [low.pk])
        now = timezone.now()
        batch = threading.Thread(target=_store_batch, args=(params, [high.pk, low.pk], manager.pk, now))
        batch.start()
        try:
            for _ in range(100):  # until the batch waits for the held lock
                waiting = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                    ["%messaging_message_store_batch%"],
                ).fetchone()[0]
                if waiting:
                    break
                time.sleep(0.05)
            assert waiting == 1
            # It waits for the lower id before it has taken the higher one (sends in high, low order).
            watcher.execute("SELECT 1 FROM messaging_conversation WHERE id = %s FOR UPDATE NOWAIT", [high.pk])
        finally:
            holder.rollback()
            batch.join(10)
    assert stored(high.pk) == [(1, "to high")] and stored(low.pk) == [(1, "to low")]


def _store_batch(params, conversation_ids, sender_id, now):
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(
            loop_sends.STORE_BATCH_SQL,
            [
                conversation_ids,
                [sender_id] * 2,
                ["text"] * 2,
                ["to high", "to low"],
                [None, None],
                [None, None],
                [now, now],
            ],
        )
