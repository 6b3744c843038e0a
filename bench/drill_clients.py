"""The drills' clients (bench/drills.py): people with sockets that send on a schedule, resend what was
refused, reconnect, and record every ack and delivery."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from websockets.asyncio.client import ClientConnection, connect

from bench.drill_nodes import http_get

if TYPE_CHECKING:
    from bench.drills import Drill


RETRY_AFTER_ERROR = 1.0  # a send answered with an error goes out again this much later


@dataclass
class Send:
    scheduled: float
    retry_at: float = 0.0


@dataclass
class Person:
    user_id: int
    token: str
    conversation_id: int


class Client:
    def __init__(self, drill: Drill, person: Person, home: int):
        self.drill, self.person, self.home = drill, person, home
        self.ws: ClientConnection | None = None
        self.node = home
        self.seen: dict[int, str] = {}  # seq -> "live" | "catch-up"
        self.contiguous = 0  # every seq up to this one is seen: where a catch-up starts
        self.live_here: set[int] = set()  # seqs pushed on the current socket
        self.doubled = 0
        self.pending: dict[str, Send] = {}
        self.refused = 0  # connection attempts that failed
        self.reconnects = 0
        self.dropped_at: float | None = None
        self.first_live: list[int] = []  # the first seq pushed on each socket (for the report on losses)
        self.caught_up_to = 0
        self.sending: set[asyncio.Future[None]] = set()  # held until sent: the loop keeps tasks weakly

    def url(self, node: int) -> str:
        return f"ws://127.0.0.1:{self.drill.ports[node]}/ws/?token={self.person.token}"

    async def run(self) -> None:
        attempt = 0
        while not self.drill.stopping:
            try:
                ws = await connect(self.url(self.node), open_timeout=30, ping_interval=None, max_queue=None)
            except Exception as exc:
                self.refused += 1
                reason = getattr(getattr(exc, "response", None), "status_code", None) or exc.__class__.__name__
                self.drill.refusals[f"{reason} from node {self.node + 1}"] += 1
                attempt += 1
                if self.dropped_at is not None:  # as a balancer skips a dead node (the first connection stays home)
                    self.node = (self.node + 1) % len(self.drill.ports)
                await asyncio.sleep(random.uniform(0, min(5.0, 0.25 * 2**attempt)))
                continue
            attempt = 0
            self.ws, self.live_here = ws, set()
            reader = asyncio.create_task(self.read(ws))
            if self.dropped_at is not None:  # a reconnect: resend what was not acknowledged, then catch up
                self.reconnects += 1
                for client_id, send in list(self.pending.items()):
                    self.transmit(client_id, send)
                if await self.catch_up(ws):
                    self.drill.storm_times.append(time.monotonic() - self.dropped_at)
                    self.drill.last_caught_up = time.monotonic()
                    self.dropped_at = None
                # else this socket closed first (a node that is stopping refuses it): after the next reconnect
            self.drill.connected += 1
            try:
                await reader
            except Exception:
                pass
            self.drill.connected -= 1
            self.ws = None
            if self.drill.stopping:
                return
            self.drill.close_codes[ws.close_code] += 1  # None: the connection dropped without a close frame
            self.dropped_at = time.monotonic()
            await asyncio.sleep(random.uniform(0, 0.5))  # a jittered first retry: not every client at once

    async def read(self, ws) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            event = frame.get("event")
            if event == "message_received":
                data = frame["data"]
                if data["conversation_id"] != self.person.conversation_id:
                    continue
                seq = data["seq"]
                if seq in self.live_here:
                    self.doubled += 1
                    continue
                if not self.live_here:
                    self.first_live.append(seq)
                self.live_here.add(seq)
                if seq not in self.seen:
                    self.seen[seq] = "live"
                    self.drill.delivered(data["content"])
                self.advance()
            elif event == "ack":
                send = self.pending.pop(frame.get("id"), None)
                if send is not None:
                    self.drill.acked(send)
            elif event == "error" and frame.get("id") in self.pending:
                self.pending[frame["id"]].retry_at = time.monotonic() + RETRY_AFTER_ERROR
                self.drill.send_errors += 1

    def advance(self) -> None:
        while self.contiguous + 1 in self.seen:
            self.contiguous += 1

    def submit(self, client_id: str, scheduled: float) -> None:
        send = self.pending[client_id] = Send(scheduled)
        if self.ws is not None:
            self.transmit(client_id, send)

    def transmit(self, client_id: str, send: Send) -> None:
        send.retry_at = float("inf")  # until an error answers it, or the socket drops (then after the reconnect)
        frame = {
            "event": "send_message",
            "id": client_id,
            "data": {
                "conversation_id": self.person.conversation_id,
                "client_id": client_id,
                "content": f"drill {client_id} {send.scheduled:.6f}",
            },
        }
        task = asyncio.ensure_future(self._send_quietly(json.dumps(frame)))
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)

    async def _send_quietly(self, text: str) -> None:
        ws = self.ws
        if ws is None:
            return
        try:
            await ws.send(text)
        except Exception:
            pass  # the socket is going away: the send stays pending and goes out after the reconnect

    def retry_due(self, now: float) -> None:
        if self.ws is None:
            return
        for client_id, send in list(self.pending.items()):
            if now >= send.retry_at:
                self.transmit(client_id, send)

    async def catch_up(self, ws: ClientConnection) -> bool:
        """Every message after the last contiguous seq, page by page; retried while the server answers 503.
        False when `ws` closed first: a client catches up again after its next reconnect."""
        after, delay = self.contiguous, 0.25
        while ws.close_code is None and not self.drill.stopping:
            port = self.drill.ports[self.node]
            path = f"/api/v1/conversations/{self.person.conversation_id}/messages?after={after}&limit=200"
            try:
                status, body = await asyncio.wait_for(http_get(port, path, self.person.token), 10)
            except (OSError, TimeoutError):  # a node going away: refused, reset, or never answering
                status, body = 0, None
            self.drill.catch_up_requests += 1
            if status != 200 or body is None:
                await asyncio.sleep(random.uniform(0, delay))
                delay = min(5.0, delay * 2)
                continue
            for message in body["results"]:
                self.caught_up_to = max(self.caught_up_to, message["seq"])
                if message["seq"] not in self.seen:
                    self.seen[message["seq"]] = "catch-up"
            if not body["next"] or not body["results"]:
                self.advance()
                return True
            after = body["results"][-1]["seq"]
        self.advance()
        return False
