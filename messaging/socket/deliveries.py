"""Delivery receipts, batched per server process.

Every socket of the process notes what it pushed; each pointer is written once per
`SOCKET_DELIVERY_BATCH_MS`, that long after it was first noted, by one statement for all the
pointers due together (`services.deliveries_record`). A burst to a 50-member conversation costs
one write a window, not fifty, and not one per frame.

The window's pointers are written in SLICES, not all at once: a thousand busy sockets made one
write of a thousand pointers a second, and the locks, the events and the frames it set off held
up the sends around it (ack p99 31 ms at 300 sends/s; 6 ms without receipts; docs/performance.md).
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from core.db import in_db_thread
from core.loops import PerLoop
from messaging import services

logger = logging.getLogger("crm.socket")

SLICES = 10  # writes per window, each of the pointers whose window is over


class _Batch:
    def __init__(self) -> None:
        self.reached: dict[tuple[int, int], int] = {}
        self.noted: dict[tuple[int, int], float] = {}  # when first noted; in that order
        self.task: asyncio.Task[None] | None = None


_batch = PerLoop(_Batch).get


def note(user_id: int, conversation_id: int, seq: int) -> None:
    """`user`'s device got everything up to `seq` in that conversation."""
    batch = _batch()
    key = (user_id, conversation_id)
    known = batch.reached.get(key)
    if known is None:
        batch.noted[key] = asyncio.get_running_loop().time()
        batch.reached[key] = seq
    elif known < seq:
        batch.reached[key] = seq
    if batch.task is None:
        batch.task = asyncio.get_running_loop().create_task(_write_due(batch))


async def flush() -> None:
    """Write this process's pending receipts now, not at the end of their window."""
    batch = _batch()
    if batch.task is not None:
        batch.task.cancel()
        batch.task = None
    reached, batch.reached, batch.noted = batch.reached, {}, {}
    await _write(reached)


async def _write_due(batch: _Batch) -> None:
    window = settings.SOCKET_DELIVERY_BATCH_MS / 1000
    loop = asyncio.get_running_loop()
    try:
        while batch.reached:
            await asyncio.sleep(window / SLICES)
            now, due = loop.time(), {}
            for key, noted in batch.noted.items():  # oldest first
                if now - noted < window:
                    break
                due[key] = batch.reached.pop(key)
            for key in due:
                del batch.noted[key]
            await _write(due)
    finally:
        if batch.task is asyncio.current_task():
            batch.task = None


async def _write(reached: dict[tuple[int, int], int]) -> None:
    if not reached:
        return
    try:
        await in_db_thread(services.deliveries_record)(reached=reached)
    except Exception:  # receipts are advisory; the pointers catch up with the next batch or a read
        logger.warning("delivery receipts failed", extra={"pointers": len(reached)}, exc_info=True)
