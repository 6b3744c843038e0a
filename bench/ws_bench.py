"""Socket benchmarks against a real daphne process. Prints figures.

1. send → deliver latency in a 50-member conversation at 20 sends/s (goal p50 ≤ 10 ms, p99 ≤ 50 ms)
2. sustained messages/s persisted and delivered to 10 recipients each, with p99 ack (goal ≥ 1,000/s,
   p99 ack ≤ 100 ms, none lost)
3. memory per idle socket (goal: 10,000 sockets in one process under 1 GiB)

Usage: python bench/ws_bench.py [--layer core|pubsub] [--seconds 10] [--idle 2000]
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
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
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from messaging.models import Conversation, Participant  # noqa: E402
from offices.models import Office  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def people(count, prefix):
    office, _ = Office.objects.get_or_create(name="WS bench")
    users = []
    for n in range(count):
        user, _ = User.objects.get_or_create(email=f"{prefix}{n}@bench.example.com",
                                             defaults={"role": Role.CONSULTANT, "office": office})
        users.append(user)
    return users


def group_of(users):
    conversation = Conversation.objects.create(type="group", title="bench", office=users[0].office,
                                               last_activity_at=timezone.now())
    Participant.objects.bulk_create([Participant(conversation=conversation, user=u) for u in users])
    return conversation


def token(user):
    return str(RefreshToken.for_user(user).access_token)


async def open_socket(port, user_token):
    ws = await connect(f"ws://127.0.0.1:{port}/ws/?token={user_token}", max_queue=None, ping_interval=None)
    await ws.send(json.dumps({"event": "ping", "id": "hello"}))
    while json.loads(await ws.recv()).get("id") != "hello":
        pass
    return ws


async def latency(port, seconds):
    users = await asyncio.to_thread(people, 50, "lat")
    conversation = await asyncio.to_thread(group_of, users)
    tokens = await asyncio.to_thread(lambda: [token(u) for u in users])
    sockets = [await open_socket(port, t) for t in tokens]
    sent_at, samples = {}, []

    async def listen(ws):
        async for raw in ws:
            frame = json.loads(raw)
            if frame["event"] == "message_received":
                key = frame["data"]["content"]
                if key in sent_at:
                    samples.append((time.perf_counter() - sent_at[key]) * 1000)

    listeners = [asyncio.create_task(listen(ws)) for ws in sockets[1:]]
    total = 20 * seconds
    for n in range(total):
        key = f"lat-{n}-{time.time()}"
        sent_at[key] = time.perf_counter()
        await sockets[0].send(json.dumps({"event": "send_message", "data": {"conversation_id": conversation.id, "content": key}}))
        await asyncio.sleep(1 / 20)
    await asyncio.sleep(2)
    for task in listeners:
        task.cancel()
    for ws in sockets:
        await ws.close()
    expected = total * 49
    print(f"latency, 50-member conversation, 20 sends/s: p50 {statistics.median(samples):6.1f} ms  "
          f"p99 {pct(samples, 99):6.1f} ms  delivered {len(samples)}/{expected}  (goal p50 <= 10, p99 <= 50)")


async def throughput(port, seconds):
    senders = await asyncio.to_thread(people, 10, "tps")
    receivers = await asyncio.to_thread(people, 10, "tpr")
    conversations = await asyncio.to_thread(lambda: [group_of([s, *receivers]) for s in senders])
    sender_tokens = await asyncio.to_thread(lambda: [token(u) for u in senders])
    receiver_tokens = await asyncio.to_thread(lambda: [token(u) for u in receivers])
    receiver_sockets = [await open_socket(port, t) for t in receiver_tokens]
    received = 0
    acks = []

    async def listen(ws):
        nonlocal received
        async for raw in ws:
            if json.loads(raw)["event"] == "message_received":
                received += 1

    listeners = [asyncio.create_task(listen(ws)) for ws in receiver_sockets]
    sent = 0
    deadline = time.perf_counter() + seconds

    async def sender(user_token, conversation):
        nonlocal sent
        ws = await open_socket(port, user_token)
        n = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await ws.send(json.dumps({"event": "send_message", "id": str(n),
                                      "data": {"conversation_id": conversation.id, "content": f"t{n}"}}))
            while True:
                frame = json.loads(await ws.recv())
                if frame.get("id") == str(n):
                    break
            acks.append((time.perf_counter() - started) * 1000)
            sent += 1
            n += 1
        await ws.close()

    started = time.perf_counter()
    await asyncio.gather(*(sender(t, c) for t, c in zip(sender_tokens, conversations)))
    elapsed = time.perf_counter() - started
    await asyncio.sleep(3)
    for task in listeners:
        task.cancel()
    for ws in receiver_sockets:
        await ws.close()
    print(f"sustained: {sent / elapsed:7.0f} messages/s persisted, each to 10 recipients; p99 ack {pct(acks, 99):6.1f} ms; "
          f"delivered {received}/{sent * 10} ({'none lost' if received == sent * 10 else 'LOST SOME'})  (goal >= 1000/s, p99 ack <= 100 ms)")


async def memory(port, pid, count):
    users = await asyncio.to_thread(people, count, "idle")
    tokens = await asyncio.to_thread(lambda: [token(u) for u in users])
    process = psutil.Process(pid)
    before = process.memory_info().rss
    sockets = []
    for t in tokens:
        sockets.append(await open_socket(port, t))
    await asyncio.sleep(1)
    after = process.memory_info().rss
    per = (after - before) / count
    print(f"memory: {count} idle sockets added {(after - before) / 2**20:6.1f} MiB = {per / 1024:5.1f} KiB per socket; "
          f"10,000 sockets ≈ {(before + per * 10_000) / 2**30:4.2f} GiB for the process  (goal < 1 GiB)")
    for ws in sockets:
        await ws.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layer", choices=["core", "pubsub"], default=settings.CHANNELS_BACKEND)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--only", choices=["latency", "throughput", "memory"])
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    port = free_port()
    env = {**os.environ, "CHANNELS_BACKEND": args.layer, "DEBUG": "false", "LOG_LEVEL": "WARNING",
           "SOCKET_MAX_CONNECTIONS_PER_USER": "5", "SOCKET_RATE_LIMIT": "1000", "ALLOWED_WS_ORIGINS": ""}
    server = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "crm_project.asgi:application"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        print(f"channel layer: {args.layer}; one daphne process; {os.cpu_count()} cores")
        if args.only in (None, "latency"):
            asyncio.run(latency(port, args.seconds))
        if args.only in (None, "throughput"):
            asyncio.run(throughput(port, args.seconds))
        if args.only in (None, "memory"):
            asyncio.run(memory(port, server.pid, args.idle))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
