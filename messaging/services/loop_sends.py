"""The socket's send on the event loop, stored in batches (group commit).

Each send is one call of the database function `messaging_message_store` (messages.py), awaited on
the loop through `core.async_db`. Under load the Python around that call (taking a pooled
connection, the statement, its result, giving the connection back) was a quarter of the loop's time,
and sends waited for a free connection because the loop was late to read the answers. So the sends of
an event loop are gathered: the first starts a writer, and what arrives while it and the others (at
most STORE_WRITERS) are on their way goes in their next call, one `messaging_message_store_batch`
(messaging/sql/store_batch_*.sql) of up to BATCH_LIMIT sends. A lone send is the one-send statement,
as before. The batch function stores each send with the one-send function, in the order sent.

A send's event is published by the writer once its batch is stored, not by the task that sent it: a
socket that closes while its send is on its way (its task cancelled) has its stored message pushed
all the same. A refused send (not a member, a bad reply) fails alone. A repeated `client_id` makes the
whole call fail (the unique constraint), as would any one row's constraint: the batch's sends are then
stored one by one, and the repeat is answered by the sync path, which reads the first message.
"""

from __future__ import annotations

import asyncio
from typing import Any, Unpack

import psycopg

from core import async_db
from core.db import in_db_thread
from core.loops import PerLoop
from core.realtime import apublish, members_group
from messaging import events, offline
from messaging.services.messages import STORE_SQL, SendFields, SendRequest, request_send, send_request

STORE_WRITERS = 2  # batches of an event loop on their way at once
BATCH_LIMIT = 64  # sends per batch

STORE_BATCH_SQL = (
    "SELECT * FROM messaging_message_store_batch(%s::bigint[], %s::bigint[], %s::text[], %s::text[], "
    "%s::bigint[], %s::text[], %s::timestamptz[])"
)

# What one send of a batch can make the whole call fail with (the unique constraint on a repeated
# client_id, a constraint or value of one row): the batch's sends are then stored one by one.
ONE_SENDS_FAULT = (psycopg.errors.IntegrityError, psycopg.errors.DataError)

Sent = tuple[events.Payload, bool]
Waiting = tuple[SendRequest, "asyncio.Future[Sent]"]


async def amessage_send(**fields: Unpack[SendFields]) -> Sent:
    """`message_send` on the event loop (the socket's `send_message`; no files): the same request
    and the same database function, on the loop's own connections instead of a database thread. The
    statement is its own transaction, so the message is pushed once it returns: to this process's
    sockets at once, to the others through Redis (`realtime.apublish`). Returns the message's payload
    (built from the stored row, no model instance: `SendRequest.sent`), the event's and the ack's, and
    whether it was stored now (False: a repeated `client_id`, answered with the first message)."""
    request = send_request(fields)
    return await _writers().store(request)


class _Writers:
    def __init__(self) -> None:
        self.waiting: list[Waiting] = []
        self.running = 0  # writers: counted down as a writer finds nothing waiting (no send left behind)
        self.tasks: set[asyncio.Task[None]] = set()

    def store(self, request: SendRequest) -> asyncio.Future[Sent]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Sent] = loop.create_future()
        self.waiting.append((request, done))
        if self.running < STORE_WRITERS:
            self.running += 1
            writer = loop.create_task(self._write())
            self.tasks.add(writer)
            writer.add_done_callback(self.tasks.discard)
        return done

    async def _write(self) -> None:
        try:
            await self._write_waiting()
        finally:
            self.running -= 1

    async def _write_waiting(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting[:BATCH_LIMIT], self.waiting[BATCH_LIMIT:]
            try:
                rows = await _stored_rows([request for request, _ in batch])
            except ONE_SENDS_FAULT as exc:  # one send's (a repeated client_id): the others are not to fail with it
                if len(batch) == 1:
                    await _answer_repeat(*batch[0], exc)
                else:
                    for waiting in batch:
                        await _store_alone(*waiting)
                continue
            except Exception as exc:  # (PostgreSQL away: every send of the batch fails the same way)
                for _, done in batch:
                    _settle(done, error=exc)
                continue
            for (request, done), row in zip(batch, rows, strict=True):
                await _publish(request, row, done)


_writers = PerLoop(_Writers).get


async def _stored_rows(requests: list[SendRequest]) -> list[Any]:
    async with async_db.cursor() as cursor:  # both statements prepared once per pooled connection
        if len(requests) == 1:
            await cursor.execute(STORE_SQL, requests[0].params(), prepare=True)
            return [await cursor.fetchone()]
        columns = [list(column) for column in zip(*(request.params() for request in requests), strict=True)]
        await cursor.execute(STORE_BATCH_SQL, columns, prepare=True)
        return await cursor.fetchall()


async def _store_alone(request: SendRequest, done: asyncio.Future[Sent]) -> None:
    try:
        [row] = await _stored_rows([request])
    except ONE_SENDS_FAULT as exc:
        await _answer_repeat(request, done, exc)
        return
    except Exception as exc:
        _settle(done, error=exc)
        return
    await _publish(request, row, done)


async def _answer_repeat(request: SendRequest, done: asyncio.Future[Sent], exc: Exception) -> None:
    """A send the unique constraint refused: a repeated `client_id` is answered with the first message."""
    if request.client_id is None or not isinstance(exc, psycopg.errors.UniqueViolation):
        _settle(done, error=exc)
        return
    try:
        _settle(done, await _first_send(request))
    except Exception as error:
        _settle(done, error=error)


async def _publish(request: SendRequest, row: Any, done: asyncio.Future[Sent]) -> None:
    """A stored send's event, then its sender's answer (a refused send: its error)."""
    try:
        payload, member_ids = request.sent(row)
    except Exception as exc:  # NotFound, ValidationFailed: nothing was stored
        _settle(done, error=exc)
        return
    await apublish(
        members_group(request.conversation_id), events.payload_event(events.MESSAGE_RECEIVED, payload, member_ids)
    )
    offline.note_sent(request.conversation_id)  # a set add: the push is scheduled in batches off the loop
    _settle(done, (payload, True))


def _settle(done: asyncio.Future[Sent], result: Sent | None = None, *, error: BaseException | None = None) -> None:
    if done.done():  # its sender's task was cancelled (the socket closed): the message is pushed all the same
        return
    if error is not None:
        done.set_exception(error)
    else:
        assert result is not None
        done.set_result(result)


@in_db_thread
def _first_send(request: SendRequest) -> Sent:
    """The sync send of the same request on a database thread: the first message's payload, files included."""
    message, created = request_send(request)
    if getattr(message, "loaded_attachments", None) is None:
        message.loaded_attachments = list(message.attachments.order_by("id"))
    return events.message_payload(message), created
