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
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.drill_clients import Client, Person, Send  # noqa: E402
from bench.drill_nodes import Node, PrivatePostgres, node_env  # noqa: E402
from bench.drill_report import Figures, pct, report  # noqa: E402
from bench.servers import wait_until_up  # noqa: E402

if TYPE_CHECKING:
    from core.tests.live_server import PrivateRedis


# --- servers ---------------------------------------------------------------------------


# --- HTTP, as a client would ---------------------------------------------------------------


# --- clients ---------------------------------------------------------------------------


# --- the drill -------------------------------------------------------------------------


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
        crashed = [r for r in await asyncio.gather(*self.tasks, return_exceptions=True) if isinstance(r, BaseException)]
        if crashed:  # a client that died stopped resending and catching up: its losses would be the drill's own
            raise RuntimeError(f"{len(crashed)} drill clients crashed; the first") from crashed[0]
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
