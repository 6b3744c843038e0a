"""The consumer as its two halves (`incoming.FrameHandlers`, `outgoing.EventDelivery`) see it: the
state `ChatConsumer.connect` sets up and the methods each half calls on the other. For the type
checker only: at run time the halves are plain mixins of `messaging.consumers.ChatConsumer`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.models import User
from messaging.socket.flood import FloodGuard
from messaging.socket.ordering import SeqOrder


class ConsumerState(AsyncJsonWebsocketConsumer):
    CLOSE_TOO_MANY: int
    FLOOD_REASON: str
    clock: Callable[[], float]
    user: User  # every handler runs after connect() accepted a signed-in user
    registered: bool
    flood: FloodGuard
    last_frame: float
    touched: dict[int, float]
    typing_tasks: dict[int, asyncio.Task[None]]
    member_of: set[int]
    monitoring: set[int]
    joined: set[int]
    order: SeqOrder[dict[str, Any]]
    gap_fills: set[asyncio.Task[None]]

    async def send_shared(self, message: Any) -> None: ...
    async def _subscribe(self, conversation_id: int) -> None: ...
    async def _monitor(self, conversation_id: int) -> None: ...
    async def _unmonitor(self, conversation_id: int) -> None: ...
    async def _forget(self, conversation_id: int) -> None: ...
