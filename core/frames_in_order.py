"""A socket's messages to the server one at a time, in the order they are sent (`core.edge._Socket`).

granian's `send` hands a message to a task of its own and returns an awaitable that is done once it is
written; two messages handed over while one is still being written can be written in either order
(seen: `core/tests/test_live_socket_promises.py`, a socket's pushes out of seq order; four of four
runs with four runtime threads). So a message sent while another is in flight joins the socket's
backlog, handed over in order, each once the one before is written (`_drain`), and `send_in_order`
returns at once (past BACKLOG_LIMIT: once it is handed over). The usual case, nothing in flight, hands
it over at once and returns the server's awaitable, which a push does not wait for
(`ChatConsumer.send_shared`); what is still unwritten when the app returns is waited for (`flush`).
daphne's `send` is a coroutine that writes before it yields: returned as it is, in order already.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Generator
from typing import Any

from core.asgi_types import Message, Send

logger = logging.getLogger("crm.server")

# Frames a socket may have waiting behind the one being written before whoever sends the next waits
# too: a client that stops reading holds up its senders, it does not fill the memory.
BACKLOG_LIMIT = 256


class _Queued:
    """What `send_in_order` returns for a message it queued: nothing to wait for (it goes out in turn)."""

    def __await__(self) -> Generator[None, None, None]:
        return
        yield  # (a generator that finishes at once)


QUEUED = _Queued()


class FramesInOrder:
    def __init__(self, send: Send) -> None:
        self._send = send
        self.in_flight: Any = None  # granian's awaitable of the last message handed over (`done()` once written)
        self.backlog: deque[tuple[Message, asyncio.Future[None] | None]] = deque()  # waiting for it, in order sent
        self.drain: asyncio.Task[None] | None = None  # hands the backlog over while there is one

    def send_in_order(self, message: Message) -> Awaitable[None]:
        in_flight = self.in_flight
        if self.backlog or (in_flight is not None and not in_flight.done()):
            if self.drain is None:
                self.drain = asyncio.create_task(self._drain())
            if len(self.backlog) >= BACKLOG_LIMIT:  # a client that stopped reading: its sender waits (a coroutine)
                handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self.backlog.append((message, handed))
                return self._handed_over(handed)
            self.backlog.append((message, None))
            return QUEUED
        return self._hand_over(message)

    async def flush(self, timeout: float) -> None:
        """Wait, `timeout` seconds at most, until every message sent is written (or failed: the client
        left), once nothing more will be sent: a server ends the connection when the app returns."""
        try:
            async with asyncio.timeout(timeout):
                if self.drain is not None:
                    await asyncio.shield(self.drain)
                if self.in_flight is not None and not self.in_flight.done():
                    await self.in_flight
        except Exception:  # (TimeoutError: a client that stopped reading)
            logger.debug("frames not written before the end", exc_info=True)

    @staticmethod
    async def _handed_over(handed: asyncio.Future[None]) -> None:
        await handed

    def _hand_over(self, message: Message) -> Awaitable[None]:
        sent = self._send(message)
        # granian's pending write (done once written); its finished ones (an error, nothing to wait for)
        # and daphne's coroutines have no `done`.
        self.in_flight = sent if hasattr(sent, "done") else None
        return sent

    async def _drain(self) -> None:
        """The backlog handed over in order, each message once the one before it is written. A failed
        write is its sender's to see, if anyone's (the connection is gone: the disconnect comes)."""
        try:
            while self.backlog:
                in_flight = self.in_flight
                if in_flight is not None and not in_flight.done():
                    try:
                        await in_flight
                    except Exception:
                        logger.debug("frame not written", exc_info=True)
                message, handed = self.backlog.popleft()
                try:
                    self._hand_over(message)
                except Exception:  # (the server's own errors come in its awaitable; this is a bug's)
                    logger.exception("frame not handed over")
                if handed is not None and not handed.done():
                    handed.set_result(None)
        finally:
            self.drain = None
