"""The hub's two tasks are supervised (`core.loops.supervised`): made to raise, each is logged and
started again, and the socket keeps getting its events. Real Redis and PostgreSQL; the faults are
a malformed event on the channel layer and one failing look of the read-back."""

import asyncio
import logging

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from accounts.tests.factories import ConsultantFactory
from core import loops, realtime
from core.realtime import CONVERSATION_EVENT_TYPE, members_group
from messaging import services
from messaging.socket import hub as hub_module
from messaging.tests.factories import make_conversation
from messaging.tests.test_consumer import connect, next_event
from offices.tests.factories import OfficeFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def two_people(name):
    office = await database_sync_to_async(OfficeFactory)(name=name)
    alice, bob = [await database_sync_to_async(ConsultantFactory)(office=office) for _ in range(2)]
    return alice, bob, await database_sync_to_async(make_conversation)(alice, bob, office=office)


def crashes(caplog, task):
    return [r for r in caplog.records if r.name == "crm.loops" and getattr(r, "task", None) == task]


async def test_a_crashed_reader_is_logged_and_restarted_and_loses_nothing(monkeypatch, caplog):
    """An event the reader cannot handle (no conversation id) makes `_run` raise. The crash is
    logged with its traceback, the reader starts again after its back-off, and the messages sent
    meanwhile reach the socket live (the read-back is kept out of the way), in order."""
    monkeypatch.setattr(hub_module, "READ_BACK_SECONDS", 3600)
    monkeypatch.setattr(loops, "RESTART_FIRST_SECONDS", 0.5)
    alice, bob, chat = await two_people("Reader crash")
    send = database_sync_to_async(services.message_send)
    socket = await connect(bob)

    bad = {"type": CONVERSATION_EVENT_TYPE, "bad": True}
    await sync_to_async(realtime._publish)([(members_group(chat.id), bad)])  # to every follower, this hub too
    for n in range(3):  # published while the reader is down or waiting to restart
        await send(sender=alice, conversation=chat, content=f"during {n}")
    assert [(await next_event(socket, "message_received"))["seq"] for _ in range(3)] == [1, 2, 3]

    [crash] = crashes(caplog, "hub reader")
    assert crash.levelno == logging.ERROR and crash.message == "task crashed; restarting"
    assert "KeyError: 'conversation_id'" in caplog.text  # with its traceback
    await send(sender=alice, conversation=chat, content="after")
    assert (await next_event(socket, "message_received"))["seq"] == 4
    await socket.disconnect()


async def test_a_crashed_read_back_is_logged_and_restarted(monkeypatch, caplog):
    """A look of the read-back that raises something other than a database outage (a bug) ends the
    task; it is logged and started again, and the lost events are still read back."""
    monkeypatch.setattr(hub_module, "READ_BACK_SECONDS", 0.1)
    monkeypatch.setattr(loops, "RESTART_FIRST_SECONDS", 0.1)
    alice, bob, chat = await two_people("Read-back crash")
    send = database_sync_to_async(services.message_send)
    socket = await connect(bob)
    await send(sender=alice, conversation=chat, content="live")
    assert (await next_event(socket, "message_received"))["seq"] == 1

    looks = []
    behind = hub_module._behind

    async def first_look_raises(seen):
        looks.append(seen)
        if len(looks) == 1:
            raise RuntimeError("a bug in the read-back")
        return await behind(seen)

    monkeypatch.setattr(hub_module, "_behind", first_look_raises)
    monkeypatch.setattr("core.realtime._publish", lambda sends: None)  # Redis away: the events are lost
    for n in range(2):
        await send(sender=alice, conversation=chat, content=f"unheard {n}")
    assert [(await next_event(socket, "message_received", timeout=3))["seq"] for _ in range(2)] == [2, 3]

    [crash] = crashes(caplog, "hub read-back")
    assert crash.message == "task crashed; restarting"
    assert "RuntimeError: a bug in the read-back" in caplog.text
    await socket.disconnect()


async def test_the_wait_doubles_at_each_crash_in_a_row_up_to_the_maximum(monkeypatch, caplog):
    monkeypatch.setattr(loops, "RESTART_FIRST_SECONDS", 0.01)
    monkeypatch.setattr(loops, "RESTART_MAX_SECONDS", 0.04)
    runs = []
    fifth = asyncio.Event()

    async def crash():
        runs.append(1)
        if len(runs) == 5:
            fifth.set()
        raise ValueError(len(runs))

    task = asyncio.create_task(loops.supervised("crasher", crash))
    await asyncio.wait_for(fifth.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    waits = [r.restart_in for r in crashes(caplog, "crasher")]
    assert waits[:5] == [0.01, 0.02, 0.04, 0.04, 0.04]
