"""Fault drills: real server nodes, real clients, and a fault in the middle of a steady stream of sends.

    python bench/drills.py node-kill         # SIGKILL one of two nodes
    python bench/drills.py node-term         # SIGTERM one of two nodes (a deploy: its sockets closed with 1012)
    python bench/drills.py redis-restart     # a private Redis the drill starts, killed and started again
    python bench/drills.py postgres-restart  # a private PostgreSQL cluster the drill starts, stopped and started
    options: --sockets 1000 --group 10 --rate 100 --seconds 20 --outage 3 --nodes 2
    DRILL_SERVER_ARGS="--backpressure 512" passes server options to every node (crm_project.serve: granian's)

Two (`--nodes`) independent server instances (`python -m crm_project.serve --workers 1`: the
production server, granian, each in its own process group) share PostgreSQL and Redis on two
ports. `--sockets` users, in group conversations of `--group`, each hold one socket, dealt over
the nodes as a load balancer would.
Sends follow a fixed schedule (open loop, `--rate` a second for `--seconds`, round-robin over the
users); halfway through, the fault. Clients behave like real ones: when a socket drops they
reconnect with jittered exponential back-off (trying the next node when one refuses), resend
every unacknowledged send with its `client_id` (sends are idempotent by it), then catch up with
`GET conversations/{id}/messages?after=<seq>`; a send answered with an error is retried the
same way. At the end the drill prints what was sent, stored, delivered live, recovered by catch-up,
lost (a message of a member's conversation they never saw) and doubled (a message pushed twice on
one socket, or stored twice), how long the reconnect storm took, and the close codes the clients saw.

The node-kill drill runs against DATABASE_URL / REDIS_URL (the settings' PostgreSQL and Redis);
the other two start their own Redis or PostgreSQL and never touch a shared one.
`core/tests/test_drills.py` runs a small node-kill drill in the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import glob
import json
import os
import pwd
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.servers import free_port, wait_until_up  # noqa: E402

if TYPE_CHECKING:
    from core.tests.live_server import PrivateRedis

RETRY_AFTER_ERROR = 1.0  # a send answered with an error goes out again this much later


# --- servers ---------------------------------------------------------------------------


class Node:
    """One server instance (`crm_project.serve`: granian's main process and one worker) in its own process group."""

    def __init__(self, env: dict, log_dir: Path, number: int):
        self.port = free_port()
        self.log = open(log_dir / f"node-{number}.log", "w+")  # noqa: SIM115 - the node's own, closed by stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crm_project.serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                *os.environ.get("DRILL_SERVER_ARGS", "").split(),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL to the launcher and its worker at once: a machine gone."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def terminate(self) -> None:
        """SIGTERM to the launcher, as a supervisor stops it for a deploy: its workers close their sockets (1012)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def cpu_seconds(self) -> float:
        """CPU time of the launcher and its worker so far (0 once killed)."""
        try:
            processes = [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children()]
            return sum(sum(p.cpu_times()[:2]) for p in processes)
        except psutil.Error:
            return 0.0

    def log_size(self) -> int:
        return Path(self.log.name).stat().st_size

    def tracebacks(self, start: int = 0, end: int | None = None) -> int:
        """Tracebacks the node logged between two log sizes."""
        with open(self.log.name, "rb") as log:
            log.seek(start)
            return log.read(None if end is None else end - start).count(b"Traceback")


def node_env(**extra) -> dict:
    return {**os.environ, "DEBUG": "false", "LOG_LEVEL": "WARNING", "ALLOWED_WS_ORIGINS": "", **extra}


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (the machine's binaries) on a free port, stopped and started at will."""

    def __init__(self, directory: Path):
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.dir, self.port = directory, free_port()
        self.as_user = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.as_user = ["runuser", "-u", "postgres", "--"]
            os.chown(directory, pwd.getpwnam("postgres").pw_uid, pwd.getpwnam("postgres").pw_gid)
        self._run("initdb", "-D", str(directory / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "crm_drill")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/crm_drill"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def close(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            self.stop()


# --- HTTP, as a client would ---------------------------------------------------------------


async def http_get(port: int, path: str, token: str) -> tuple[int, dict | None]:
    """One GET on a new connection (the drill must not depend on a client library's pooling)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Connection: close\r\n\r\n".encode()
        )
        raw = await reader.read()
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        chunks, rest = [], body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if not size:
                break
            chunks.append(rest[:size])
            rest = rest[size + 2 :]
        body = b"".join(chunks)
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        return status, None


# --- clients ---------------------------------------------------------------------------


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


# --- the drill -------------------------------------------------------------------------


@dataclass
class Figures:
    sent: int = 0
    acked: int = 0
    stored: int = 0
    stored_twice: int = 0
    expected: int = 0
    live: int = 0
    caught_up: int = 0
    lost: int = 0
    doubled: int = 0
    dropped_sockets: int = 0
    reconnected: int = 0
    storm_seconds: float = 0.0
    reconnect_p50: float = 0.0
    reconnect_p99: float = 0.0
    refused: int = 0
    refusals: dict = field(default_factory=dict)
    close_codes: dict = field(default_factory=dict)  # close code -> sockets the server closed with it
    send_errors: int = 0
    catch_up_requests: int = 0
    ack_ms: list = field(default_factory=list)
    deliver_ms: list = field(default_factory=list)
    tracebacks: int = 0
    tracebacks_at_close: int = 0  # logged while the drill closed every socket at once
    lost_examples: list = field(default_factory=list)  # (user, conversation, seq, reconnected, node, last seq seen)


class Drill:
    def __init__(self, ports: list[int], people: list[Person]):
        self.ports = ports
        self.clients = [Client(self, person, n % len(ports)) for n, person in enumerate(people)]
        self.stopping = False
        self.connected = 0
        self.ack_ms: list[float] = []
        self.deliver_ms: list[float] = []
        self.storm_times: list[float] = []
        self.last_caught_up = 0.0
        self.fault_started = 0.0
        self.send_errors = 0
        self.catch_up_requests = 0
        self.client_ids: list[str] = []
        self.refusals: collections.Counter = collections.Counter()
        self.close_codes: collections.Counter = collections.Counter()  # sockets the server closed or dropped

    def acked(self, send: Send) -> None:
        self.ack_ms.append((time.perf_counter() - send.scheduled) * 1000)

    def delivered(self, content: str) -> None:
        parts = content.split(" ")
        if len(parts) == 3:
            self.deliver_ms.append((time.perf_counter() - float(parts[2])) * 1000)

    async def connect_all(self, at_once: int = 100) -> None:
        self.tasks = [asyncio.create_task(client.run()) for client in self.clients]
        deadline = time.monotonic() + 120
        while self.connected < len(self.clients):
            if time.monotonic() > deadline:
                raise SystemExit(f"only {self.connected} of {len(self.clients)} sockets opened")
            await asyncio.sleep(0.1)

    async def run(
        self, *, rate: float, seconds: float, fault, fault_at: float, drain: float = 60, before_closing=None
    ) -> float:
        """Sends on schedule, the fault at `fault_at` s; returns when every send is acknowledged and
        every dropped client has caught up (or `drain` seconds after the schedule ends)."""
        retries = asyncio.create_task(self._retry_loop())
        start = time.perf_counter()
        total = int(rate * seconds)
        fault_task = None
        for n in range(total):
            due = start + n / rate
            if fault_task is None and due - start >= fault_at:
                fault_task = asyncio.create_task(fault())
                self.fault_started = time.monotonic()
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            client = self.clients[n % len(self.clients)]
            client_id = uuid.uuid4().hex
            self.client_ids.append(client_id)
            client.submit(client_id, due)
        if fault_task is not None:
            await fault_task
        deadline = time.monotonic() + drain
        while time.monotonic() < deadline:
            settled = all(not c.pending and c.ws is not None and c.dropped_at is None for c in self.clients)
            if settled:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # the last pushes in flight
        if before_closing is not None:
            before_closing()
        self.stopping = True
        retries.cancel()
        for client in self.clients:
            if client.ws is not None:
                await client.ws.close()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        return time.perf_counter() - start

    async def _retry_loop(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            for client in self.clients:
                client.retry_due(now)

    def figures(self, stored_by_conversation: dict[int, set[int]], stored: int, stored_twice: int) -> Figures:
        f = Figures(
            sent=len(self.client_ids),
            acked=len(self.ack_ms),
            stored=stored,
            stored_twice=stored_twice,
            refusals=dict(self.refusals.most_common()),
            close_codes=dict(self.close_codes.most_common()),
            send_errors=self.send_errors,
            catch_up_requests=self.catch_up_requests,
            ack_ms=self.ack_ms,
            deliver_ms=self.deliver_ms,
        )
        for client in self.clients:
            expected = stored_by_conversation.get(client.person.conversation_id, set())
            f.expected += len(expected)
            f.live += sum(1 for seq in expected if client.seen.get(seq) == "live")
            f.caught_up += sum(1 for seq in expected if client.seen.get(seq) == "catch-up")
            missing = expected - client.seen.keys()
            f.lost += len(missing)
            examples = [
                (
                    client.person.user_id,
                    client.person.conversation_id,
                    seq,
                    client.reconnects,
                    client.caught_up_to,
                    client.first_live,
                )
                for seq in sorted(missing)
            ]
            f.lost_examples += examples[: 20 - len(f.lost_examples)]
            f.doubled += client.doubled
            f.refused += client.refused
            f.reconnected += 1 if client.reconnects else 0
        f.doubled += stored_twice
        f.dropped_sockets = sum(1 for c in self.clients if c.reconnects or c.dropped_at is not None)
        if self.storm_times:
            f.storm_seconds = self.last_caught_up - self.fault_started
            f.reconnect_p50 = statistics.median(self.storm_times)
            f.reconnect_p99 = pct(self.storm_times, 99)
        return f


def busy_seconds() -> float:
    times = psutil.cpu_times()
    return (
        times.user
        + times.nice
        + times.system
        + getattr(times, "irq", 0)
        + getattr(times, "softirq", 0)
        + getattr(times, "steal", 0)
    )


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] if values else 0.0


# --- data (Django) -----------------------------------------------------------------------


def make_people(count: int, group: int, tag: str) -> list[Person]:
    """`count` users in conversations of `group`, made in bulk (no password: they sign in with tokens)."""
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import Role, User
    from messaging.models import Conversation, Participant
    from offices.models import Office

    office, _ = Office.objects.get_or_create(name="Drills")
    users = User.objects.bulk_create(
        [
            User(email=f"drill-{tag}-{n}@drill.example.com", role=Role.CONSULTANT, office=office, password="!")
            for n in range(count)
        ]
    )
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(type="group", title=f"drill {tag} {n}", office=office, last_activity_at=timezone.now())
            for n in range(count // group)
        ]
    )
    Participant.objects.bulk_create(
        [
            Participant(conversation=conversations[n // group], user=user)
            for n, user in enumerate(users)
            if n // group < len(conversations)
        ]
    )
    return [
        Person(user.id, str(AccessToken.for_user(user)), conversations[n // group].id)
        for n, user in enumerate(users)
        if n // group < len(conversations)
    ]


def stored_messages(conversation_ids, client_ids) -> tuple[dict[int, set[int]], int, int]:
    """Seqs stored per conversation, how many messages the drill's sends stored, and how many of
    them twice (one client_id, two rows: must be 0)."""
    from django.db.models import Count

    from messaging.models import Message

    by_conversation: dict[int, set[int]] = {}
    for conversation_id, seq in Message.objects.filter(conversation_id__in=conversation_ids).values_list(
        "conversation_id", "seq"
    ):
        by_conversation.setdefault(conversation_id, set()).add(seq)
    rows = Message.objects.filter(client_id__in=client_ids)
    stored = rows.values("client_id").distinct().count()
    twice = sum(row["n"] - 1 for row in rows.values("client_id").annotate(n=Count("id")).filter(n__gt=1))
    return by_conversation, stored, twice


def run_drill(
    *,
    ports: list[int],
    people: list[Person],
    rate: float,
    seconds: float,
    fault,
    fault_at: float,
    drain: float = 60,
    before_closing=None,
) -> tuple[Figures, float]:
    """Connect every person, run the schedule with the fault, and count. Returns (figures, seconds)."""
    drill = Drill(ports, people)

    async def main():
        await drill.connect_all()
        return await drill.run(
            rate=rate, seconds=seconds, fault=fault, fault_at=fault_at, drain=drain, before_closing=before_closing
        )

    elapsed = asyncio.run(main())
    from django.db import connection

    connection.close()  # a connection from before a PostgreSQL restart is broken: count on a new one
    by_conversation, stored, twice = stored_messages({p.conversation_id for p in people}, drill.client_ids)
    return drill.figures(by_conversation, stored, twice), elapsed


def report(name: str, f: Figures, setup: str) -> str:
    lines = [
        f"{name}: {setup}",
        (
            f"  sent {f.sent}, acked {f.acked}, stored {f.stored} (stored twice: {f.stored_twice}); "
            f"send errors answered and retried: {f.send_errors}"
        ),
        (
            f"  deliveries expected {f.expected}: live {f.live}, recovered by catch-up {f.caught_up}, "
            f"LOST {f.lost}, DOUBLED {f.doubled}"
        ),
        (
            f"  reconnect storm: {f.reconnected} of {f.dropped_sockets} dropped sockets back and caught up "
            f"{f.storm_seconds:.1f} s after the fault began (per socket p50 {f.reconnect_p50:.1f} s, "
            f"p99 {f.reconnect_p99:.1f} s); {f.catch_up_requests} catch-up requests"
        ),
        f"  failed connection attempts: {f.refused}" + "".join(f"; {n} {k}" for k, n in f.refusals.items()),
        "  sockets closed by the server: "
        + (", ".join(f"{n} with {code or 'no close frame'}" for code, n in f.close_codes.items()) or "none"),
    ]
    if f.ack_ms:
        lines.append(
            f"  ack from the scheduled send: p50 {pct(f.ack_ms, 50):.0f} ms, p99 {pct(f.ack_ms, 99):.0f} ms, "
            f"max {max(f.ack_ms) / 1000:.1f} s; live delivery p50 {pct(f.deliver_ms, 50):.0f} ms, "
            f"p99 {pct(f.deliver_ms, 99):.0f} ms"
        )
    lines.append(
        f"  server tracebacks in the nodes' logs: {f.tracebacks} during the drill, "
        f"{f.tracebacks_at_close} while it closed every socket at the end"
    )
    if f.lost_examples:
        lines.append(
            "  lost, e.g. (user, conversation, seq, reconnects, caught up to seq, first seq pushed on "
            "each socket): " + ", ".join(map(str, f.lost_examples[:10]))
        )
    return "\n".join(lines)


# --- the three faults ----------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fault", choices=["node-kill", "node-term", "redis-restart", "postgres-restart"])
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--group", type=int, default=10, help="members of each group conversation")
    parser.add_argument("--rate", type=float, default=100, help="sends a second, on a fixed schedule")
    parser.add_argument("--seconds", type=float, default=20, help="how long the schedule runs")
    parser.add_argument("--outage", type=float, default=3, help="seconds Redis or PostgreSQL stays down")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix=f"crm-drill-{args.fault}-"))
    workdir.chmod(0o755)  # a private PostgreSQL runs as another user under it
    extra: dict[str, str] = {"REDIS_NAMESPACE": f"crm.drill-{uuid.uuid4().hex[:8]}"}  # a clean slate in Redis
    private: PrivateRedis | PrivatePostgres | None = None
    if args.fault == "redis-restart":
        from core.tests.live_server import PrivateRedis

        redis_server = private = PrivateRedis()
        redis_server.start()
        extra["REDIS_URL"] = redis_server.url
    elif args.fault == "postgres-restart":
        (workdir / "pg").mkdir()
        postgres = private = PrivatePostgres(workdir / "pg")
        extra["DATABASE_URL"] = postgres.url
    os.environ.update(extra)  # this process reads and writes the same stores as the nodes
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    tag = uuid.uuid4().hex[:8]
    people = make_people(args.sockets, args.group, tag)
    nodes = [Node(node_env(**extra), workdir, n) for n in range(args.nodes)]
    try:
        for node in nodes:
            wait_until_up(node.port, 60)

        async def fault():
            if args.fault == "node-kill":
                nodes[-1].kill()
                return
            if args.fault == "node-term":
                nodes[-1].terminate()
                await asyncio.to_thread(nodes[-1].process.wait, 30)
                return
            private.stop()
            await asyncio.sleep(args.outage)
            await asyncio.to_thread(private.start)

        load_before, cpu_before = os.getloadavg(), [node.cpu_seconds() for node in nodes]
        machine_before, started = busy_seconds(), time.monotonic()
        marks = {}
        figures, elapsed = run_drill(
            ports=[n.port for n in nodes],
            people=people,
            rate=args.rate,
            seconds=args.seconds,
            fault=fault,
            fault_at=args.seconds / 2,
            before_closing=lambda: marks.update({n: n.log_size() for n in nodes}),
        )
        time.sleep(1)  # the nodes' last lines
        figures.tracebacks = sum(node.tracebacks(0, marks.get(node)) for node in nodes)
        figures.tracebacks_at_close = sum(node.tracebacks(marks[node]) for node in nodes if node in marks)
        what = {
            "node-kill": f"SIGKILL of node {len(nodes)} (its launcher and worker)",
            "node-term": f"SIGTERM to node {len(nodes)} (a deploy)",
            "redis-restart": f"Redis killed, started again {args.outage:g} s later",
            "postgres-restart": f"PostgreSQL stopped (fast), started again {args.outage:g} s later",
        }[args.fault]
        setup = (
            f"{len(nodes)} nodes, {len(people)} sockets in {len(people) // args.group} conversations of "
            f"{args.group}, {args.rate:g} sends/s for {args.seconds:g} s, {what} at {args.seconds / 2:g} s"
        )
        print(report(args.fault, figures, setup))
        busy, wall = busy_seconds() - machine_before, time.monotonic() - started
        nodes_cpu = ", ".join(
            f"{after - before:.0f} s" if after else "killed"
            for before, after in zip(cpu_before, [node.cpu_seconds() for node in nodes], strict=True)
        )
        print(
            f"  machine: {os.cpu_count()} cores, load average {load_before[0]:.1f} before and "
            f"{os.getloadavg()[0]:.1f} after; {busy:.0f} of {wall * (os.cpu_count() or 1):.0f} core-seconds busy "
            f"(nodes: {nodes_cpu}; this client {sum(psutil.Process().cpu_times()[:2]):.0f} s in all); "
            f"the drill ran {elapsed:.0f} s; node logs in {workdir}"
        )
        return 0 if figures.lost == 0 and figures.doubled == 0 and figures.stored == figures.sent else 1
    finally:
        for node in nodes:
            node.stop()
        if private is not None:
            private.close() if isinstance(private, PrivatePostgres) else private.stop()


if __name__ == "__main__":
    sys.exit(main())
