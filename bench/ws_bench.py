"""Socket benchmarks against real server processes: the production server (`crm_project.serve`, granian,
one worker each) or, with `--server daphne`, daphne. Prints figures.

1. send → deliver latency in a 50-member conversation at 20 sends/s (goal p50 ≤ 10 ms, p99 ≤ 50 ms)
2. sustained messages/s persisted and delivered to 10 recipients each, with p99 ack (goal ≥ 1,000/s,
   p99 ack ≤ 100 ms, none lost)
3. open loop: `--rate` sends a second on a fixed schedule from `--senders` senders (10 recipients each),
   ack and delivery latency measured from each send's scheduled time, and what was lost; next to (2),
   which waits for each ack before the next send and so never queues
4. memory per idle socket: opens `--idle` sockets on one process (goal: 10,000 sockets under 1 GiB)

Sockets are spread round-robin over `--workers` server processes (one per core by default), as a
load balancer would; every delivery between processes goes through Redis. The client shares the
machine, so each figure comes with the CPU time the servers, the client and the rest of the
machine (PostgreSQL, Redis) spent on it.

Usage: python bench/ws_bench.py [--server serve|daphne] [--workers 2] [--seconds 10] [--senders 20]
       [--rate 1000] [--idle 10000] [--only latency|throughput|openloop|memory]
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")

import django  # noqa: E402

django.setup()

import psutil  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from bench.servers import free_port, wait_until_up  # noqa: E402
from messaging.models import Conversation, Participant  # noqa: E402
from offices.models import Office  # noqa: E402

STORES = tuple(os.environ.get("BENCH_STORES", "postgres,redis").split(","))
RECEIVED = '"event":"message_received"'  # frames are compact JSON made once per event


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def people(count, prefix):
    office, _ = Office.objects.get_or_create(name="WS bench")
    emails = [f"{prefix}{n}@bench.example.com" for n in range(count)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    User.objects.bulk_create(
        [User(email=e, role=Role.CONSULTANT, office=office, password="!") for e in emails if e not in existing]
    )
    by_email = {u.email: u for u in User.objects.filter(email__in=emails)}
    return [by_email[e] for e in emails]


def group_of(users, title):
    """The same conversation on every run (a user's socket subscribes to all their conversations)."""
    conversation, created = Conversation.objects.get_or_create(
        type="group", title=title, defaults={"office": users[0].office, "last_activity_at": timezone.now()}
    )
    if created:
        Participant.objects.bulk_create([Participant(conversation=conversation, user=u) for u in users])
    return conversation


def token(user):
    return str(AccessToken.for_user(user))


class Cluster:
    """N server processes on N ports; sockets are dealt out round-robin."""

    def __init__(self, workers, server="serve"):
        env = {
            **os.environ,
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "SOCKET_MAX_CONNECTIONS_PER_USER": "5",
            "SOCKET_RATE_LIMIT": "1000",
            "ALLOWED_WS_ORIGINS": "",
        }
        self.ports = [free_port() for _ in range(workers)]
        python, host = [sys.executable, "-m"], "127.0.0.1"
        commands = {
            "serve": lambda port: [*python, "crm_project.serve", "--host", host, "--port", str(port), "--workers", "1"],
            "daphne": lambda port: [*python, "daphne", "-b", host, "-p", str(port), "crm_project.asgi:application"],
        }
        self.servers = [
            subprocess.Popen(
                commands[server](port),
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for port in self.ports
        ]
        self.next = 0
        for port in self.ports:
            wait_until_up(port)

    def processes(self, n=None):
        """The server processes (a granian launcher and its worker), of server `n` or of all."""
        chosen = self.servers if n is None else [self.servers[n]]
        found = []
        for server in chosen:
            process = psutil.Process(server.pid)
            found += [process, *process.children(recursive=True)]
        return found

    def port(self):
        self.next += 1
        return self.ports[(self.next - 1) % len(self.ports)]

    def stop(self):
        for server in self.servers:
            server.terminate()
        for server in self.servers:
            server.wait()


class CpuMeter:
    """CPU seconds spent by the servers, by this client, and by the whole machine, between start and stop."""

    def __init__(self, cluster):
        self.servers = cluster.processes()
        self.me = psutil.Process()

    @staticmethod
    def _busy():
        times = psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0)

    @staticmethod
    def _stores():
        """PostgreSQL and Redis on this machine (their processes come and go: read them each time)."""
        total = 0.0
        for process in psutil.process_iter(["name", "cpu_times"]):
            if (process.info["name"] or "").startswith(STORES) and process.info["cpu_times"]:
                total += sum(process.info["cpu_times"][:2])
        return total

    def _now(self):
        return (
            sum(sum(p.cpu_times()[:2]) for p in self.servers),
            sum(self.me.cpu_times()[:2]),
            self._stores(),
            self._busy(),
        )

    def __enter__(self):
        self.start = self._now()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        end = self._now()
        self.servers_s, self.client_s, self.stores_s, self.machine_s = (
            b - a for a, b in zip(self.start, end, strict=True)
        )
        self.elapsed = time.perf_counter() - self.started

    def line(self, per=None, unit="message"):
        rest = self.machine_s - self.servers_s - self.client_s - self.stores_s
        parts = [
            (
                f"servers {self.servers_s:5.1f} s, client {self.client_s:5.1f} s, "
                f"PostgreSQL+Redis {self.stores_s:5.1f} s, "
                f"rest {rest:5.1f} s of {self.elapsed * psutil.cpu_count():4.1f} core-s"
            )
        ]
        if per:
            parts.append(
                f"server CPU {self.servers_s / per * 1000:5.2f} ms, "
                f"PostgreSQL+Redis {self.stores_s / per * 1000:5.2f} ms per {unit}"
            )
        return "    cpu: " + "; ".join(parts)


async def open_socket(port, user_token):
    ws = await connect(
        f"ws://127.0.0.1:{port}/ws/?token={user_token}", max_queue=None, ping_interval=None, open_timeout=60
    )
    await ws.send(json.dumps({"event": "ping", "id": "hello"}))
    while json.loads(await ws.recv()).get("id") != "hello":
        pass
    return ws


async def open_many(cluster, tokens, *, port=None, at_once=50, progress=False):
    sockets = []
    for start in range(0, len(tokens), at_once):
        sockets += await asyncio.gather(
            *(open_socket(port or cluster.port(), t) for t in tokens[start : start + at_once])
        )
        if progress and len(sockets) % 1000 == 0:
            print(f"    {len(sockets):,} sockets open", flush=True)
    return sockets


async def latency(cluster, seconds):
    users = await asyncio.to_thread(people, 50, "lat")
    conversation = await asyncio.to_thread(group_of, users, "bench latency")
    tokens = await asyncio.to_thread(lambda: [token(u) for u in users])
    sockets = await open_many(cluster, tokens)
    sent_at, samples = {}, []

    async def listen(ws):
        async for raw in ws:
            if RECEIVED in raw:
                key = json.loads(raw)["data"]["content"]
                if key in sent_at:
                    samples.append((time.perf_counter() - sent_at[key]) * 1000)

    listeners = [asyncio.create_task(listen(ws)) for ws in sockets[1:]]
    total = 20 * seconds
    with CpuMeter(cluster) as cpu:
        for n in range(total):
            key = f"lat-{n}-{time.time()}"
            sent_at[key] = time.perf_counter()
            await sockets[0].send(
                json.dumps({"event": "send_message", "data": {"conversation_id": conversation.id, "content": key}})
            )
            await asyncio.sleep(1 / 20)
        await asyncio.sleep(1)
    for task in listeners:
        task.cancel()
    for ws in sockets:
        await ws.close()
    expected = total * 49
    print(
        f"latency, 50-member conversation, 20 sends/s: p50 {statistics.median(samples):6.1f} ms  "
        f"p99 {pct(samples, 99):6.1f} ms  delivered {len(samples)}/{expected}  (goal p50 <= 10, p99 <= 50)"
    )
    print(cpu.line(total, "message (49 deliveries)"))


async def throughput(cluster, seconds, senders_count):
    senders = await asyncio.to_thread(people, senders_count, "tps")
    receivers = await asyncio.to_thread(people, 10, "tpr")
    conversations = await asyncio.to_thread(
        lambda: [group_of([s, *receivers], f"bench throughput {n}") for n, s in enumerate(senders)]
    )
    sender_tokens = await asyncio.to_thread(lambda: [token(u) for u in senders])
    receiver_tokens = await asyncio.to_thread(lambda: [token(u) for u in receivers])
    receiver_sockets = await open_many(cluster, receiver_tokens)
    sender_sockets = await open_many(cluster, sender_tokens)
    received = 0
    acks = []

    async def listen(ws):
        nonlocal received
        async for raw in ws:
            if RECEIVED in raw:
                received += 1

    listeners = [asyncio.create_task(listen(ws)) for ws in receiver_sockets]
    sent = 0
    deadline = time.perf_counter() + seconds

    async def sender(ws, conversation):
        nonlocal sent
        n = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await ws.send(
                json.dumps(
                    {
                        "event": "send_message",
                        "id": str(n),
                        "data": {"conversation_id": conversation.id, "content": f"t{n}"},
                    }
                )
            )
            while True:
                frame = json.loads(await ws.recv())
                if frame.get("id") == str(n):
                    break
            acks.append((time.perf_counter() - started) * 1000)
            sent += 1
            n += 1

    with CpuMeter(cluster) as cpu:
        started = time.perf_counter()
        await asyncio.gather(*(sender(ws, c) for ws, c in zip(sender_sockets, conversations, strict=True)))
        elapsed = time.perf_counter() - started
        for _ in range(50):  # wait for the tail of deliveries
            if received >= sent * 10:
                break
            await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    for task in listeners:
        task.cancel()
    for ws in receiver_sockets + sender_sockets:
        await ws.close()
    print(
        f"sustained: {sent / elapsed:7.0f} messages/s persisted, each to 10 recipients ({senders_count} senders); "
        f"p50 ack {statistics.median(acks):5.1f} ms, p99 ack {pct(acks, 99):6.1f} ms; "
        f"delivered {received}/{sent * 10} ({'none lost' if received == sent * 10 else 'LOST SOME'})  "
        "(goal >= 1000/s, p99 ack <= 100 ms)"
    )
    print(cpu.line(sent))


async def open_loop(cluster, seconds, rate, senders_count):
    """Sends on a fixed schedule whatever the server's pace (open loop): a slow server shows as
    latency measured from when each send was due, not as fewer sends (the closed loop above waits
    for each ack, so queueing never builds up and never shows)."""
    senders = await asyncio.to_thread(people, senders_count, "ols")
    receivers = await asyncio.to_thread(people, 10, "olr")
    conversations = await asyncio.to_thread(
        lambda: [group_of([s, *receivers], f"bench open loop {n}") for n, s in enumerate(senders)]
    )
    sender_tokens = await asyncio.to_thread(lambda: [token(u) for u in senders])
    receiver_tokens = await asyncio.to_thread(lambda: [token(u) for u in receivers])
    receiver_sockets = await open_many(cluster, receiver_tokens)
    sender_sockets = await open_many(cluster, sender_tokens)
    due_at: dict[int, float] = {}
    acks, deliveries, late = [], [], []

    async def listen_receiver(ws):
        async for raw in ws:
            if RECEIVED in raw:
                now = time.perf_counter()
                content = json.loads(raw)["data"]["content"]
                if content.startswith("ol"):
                    deliveries.append((now - due_at[int(content[2:])]) * 1000)

    async def listen_sender(ws):
        async for raw in ws:
            if '"ack"' in raw:
                now = time.perf_counter()
                frame = json.loads(raw)
                if frame.get("event") == "ack" and frame.get("id", "").startswith("ol"):
                    acks.append((now - due_at[int(frame["id"][2:])]) * 1000)

    listeners = [asyncio.create_task(listen_receiver(ws)) for ws in receiver_sockets]
    listeners += [asyncio.create_task(listen_sender(ws)) for ws in sender_sockets]
    total = int(rate * seconds)
    with CpuMeter(cluster) as cpu:
        start = time.perf_counter()
        for n in range(total):
            due = start + n / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            late.append((time.perf_counter() - due) * 1000)
            due_at[n] = due
            conversation = conversations[n % len(conversations)]
            frame = {
                "event": "send_message",
                "id": f"ol{n}",
                "data": {"conversation_id": conversation.id, "content": f"ol{n}"},
            }
            await sender_sockets[n % len(sender_sockets)].send(json.dumps(frame))
        for _ in range(100):  # up to 10 s for the tail
            if len(acks) >= total and len(deliveries) >= total * 10:
                break
            await asyncio.sleep(0.1)
    for task in listeners:
        task.cancel()
    for ws in receiver_sockets + sender_sockets:
        await ws.close()
    lost = total * 10 - len(deliveries)
    print(
        f"open loop: {rate:g} sends/s scheduled for {seconds} s ({senders_count} senders, 10 recipients each): "
        f"ack p50 {pct(acks, 50):6.1f} ms, p99 {pct(acks, 99):7.1f} ms; delivery p50 {pct(deliveries, 50):6.1f} ms, "
        f"p99 {pct(deliveries, 99):7.1f} ms (both from the scheduled send time); acked {len(acks)}/{total}, "
        f"delivered {len(deliveries)}/{total * 10} ({'none lost' if lost == 0 else f'LOST {lost}'}); "
        f"the generator sent p99 {pct(late, 99):.1f} ms behind schedule"
    )
    print(cpu.line(total))


async def memory(cluster, count):
    users = await asyncio.to_thread(people, (count + 4) // 5, "idle")  # at most 5 sockets a user
    tokens = await asyncio.to_thread(lambda: [token(u) for u in users])
    port = cluster.ports[0]
    process = cluster.processes(0)[-1]  # the worker that holds the sockets (daphne: the process itself)
    before = process.memory_info().rss
    started = time.perf_counter()
    sockets = await open_many(cluster, [tokens[n % len(tokens)] for n in range(count)], port=port, progress=True)
    opened = time.perf_counter() - started
    await asyncio.sleep(2)
    after = process.memory_info().rss
    per = (after - before) / count
    print(
        f"memory: {count:,} idle sockets on one process added {(after - before) / 2**20:6.1f} MiB "
        f"= {per / 1024:5.1f} KiB per socket; "
        f"the process holds {after / 2**30:4.2f} GiB  (goal: 10,000 sockets < 1 GiB); opened in {opened:.0f} s"
    )
    for ws in sockets:
        await ws.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", choices=["serve", "daphne"], default="serve")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--senders", type=int, default=20, help="concurrent senders, each waiting for its ack")
    parser.add_argument("--rate", type=float, default=1000, help="open loop: sends a second on a fixed schedule")
    parser.add_argument("--only", choices=["latency", "throughput", "openloop", "memory"])
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    cluster = Cluster(args.workers, args.server)
    try:
        what = f"{args.workers} {args.server} process(es)"
        print(f"channel layer: {settings.CHANNELS_BACKEND}; {what}; {os.cpu_count()} cores")
        if args.only in (None, "latency"):
            asyncio.run(latency(cluster, args.seconds))
        if args.only in (None, "throughput"):
            asyncio.run(throughput(cluster, args.seconds, args.senders))
        if args.only in (None, "openloop"):
            asyncio.run(open_loop(cluster, args.seconds, args.rate, args.senders))
        if args.only in (None, "memory"):
            asyncio.run(memory(cluster, args.idle))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
