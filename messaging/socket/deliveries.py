"""Delivery receipts, batched per server process.

Every socket of the process notes what it pushed; once per `SOCKET_DELIVERY_BATCH_MS` one
database statement moves all those delivered pointers (`services.deliveries_record`). A burst to a
50-member conversation costs one write a window, not fifty, and not one per frame.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from core.db import in_db_thread
from messaging import services
from messaging.socket import PerLoop

logger = logging.getLogger("crm.socket")


class _Batch:
    def __init__(self) -> None:
        self.reached: dict[tuple[int, int], int] = {}
        self.task: asyncio.Task[None] | None = None


_batch = PerLoop(_Batch).get


def note(user_id: int, conversation_id: int, seq: int) -> None:
    """`user`'s device got everything up to `seq` in that conversation."""
    batch = _batch()
    key = (user_id, conversation_id)
    if batch.reached.get(key, 0) < seq:
        batch.reached[key] = seq
    if batch.task is None:
        batch.task = asyncio.get_running_loop().create_task(_flush_later(batch))


async def flush() -> None:
    """Write this process's pending receipts now, not at the end of the window."""
    batch = _batch()
    if batch.task is not None:
        batch.task.cancel()
    await _write(batch)


async def _flush_later(batch: _Batch) -> None:
    await asyncio.sleep(settings.SOCKET_DELIVERY_BATCH_MS / 1000)
    await _write(batch)


async def _write(batch: _Batch) -> None:
    reached, batch.reached, batch.task = batch.reached, {}, None
    if not reached:
        return
    try:
        await in_db_thread(services.deliveries_record)(reached=reached)
    except Exception:  # receipts are advisory; the pointers catch up with the next batch or a read
        logger.warning("delivery receipts failed", extra={"pointers": len(reached)}, exc_info=True)
