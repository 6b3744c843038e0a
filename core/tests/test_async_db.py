"""The event loop's PostgreSQL pool (core.async_db): kept cursors, outages, the checkout check."""

import gc
import os
import resource

import psycopg
import pytest
from channels.db import database_sync_to_async
from django.db import connection

from core import async_db
from core.outages import database
from core.postgresql.base import has_input
from messaging import services
from messaging.models import Conversation, Message
from messaging.tests.factories import make_conversation

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_pooled_connection_keeps_its_cursor():
    seen = []
    for _ in range(6):
        async with async_db.cursor() as cursor:
            await cursor.execute("SELECT 1")
            seen.append((cursor.connection, cursor))
    assert len({id(cursor) for _, cursor in seen}) == len({id(conn) for conn, _ in seen})  # one per connection
    assert all(conn.kept_cursor is cursor for conn, cursor in seen)


async def test_sends_on_the_loop_leave_no_reference_cycles(manager, consultant):
    """A new cursor per statement made ~30 objects in reference cycles per send, which the garbage
    collector then had to find while every socket of the process waited."""
    conversation = await database_sync_to_async(make_conversation)(manager, consultant)
    target = Conversation(pk=conversation.pk)
    for n in range(5):  # the pool, the prepared statement, the publisher: made once
        await services.amessage_send(sender=manager, conversation=target, content=f"warm {n}")
    gc.collect()
    gc.disable()
    try:
        for n in range(50):
            await services.amessage_send(sender=manager, conversation=target, content=f"m{n}")
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert unreachable < 100  # was ~1,500 for 50 sends
    assert await database_sync_to_async(Message.objects.filter(conversation_id=conversation.pk).count)() == 55


async def test_while_postgresql_is_known_down_a_call_fails_at_once():
    outage = database()
    outage.since = 0.0
    try:
        with pytest.raises(psycopg.OperationalError):
            async with async_db.cursor():
                pytest.fail("no connection is taken while PostgreSQL is down")
    finally:
        outage.since = None


def test_a_healthy_connection_past_descriptor_1024_is_not_broken():
    """`select` cannot watch a descriptor past 1024; a server process with a thousand sockets has
    such descriptors, and every connection taken from the pool was judged broken (and the pool
    checked with a query per connection)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048:  # a common default is 1,024 descriptors a process
        if hard != resource.RLIM_INFINITY and hard < 2048:
            pytest.skip(f"this process may open only {hard} descriptors")
        resource.setrlimit(resource.RLIMIT_NOFILE, (2048, hard))
    pipes = [os.pipe() for _ in range(520)]
    try:
        conn = psycopg.connect(**{**connection.get_connection_params(), "cursor_factory": psycopg.Cursor})
        try:
            assert conn.fileno() > 1024
            assert not has_input(conn)
            conn.execute("SELECT 1")
            assert not has_input(conn)
        finally:
            conn.close()
    finally:
        for read, write in pipes:
            os.close(read)
            os.close(write)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
