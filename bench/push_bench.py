"""Pushes to people who are away: how long after a burst of messages the push service has them all.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench REDIS_URL=redis://127.0.0.1:6379/9
    .venv/bin/python bench/push_bench.py [--recipients 1000] [--group 50] [--grace 5] [--concurrency 2]

A real server (`crm_project.serve`, one worker), a real Celery worker (`celery -A crm_project worker`,
prefork, `--concurrency` processes) and a Web Push service on loopback that decrypts every push it
receives (devices/tests/standins.py). `--recipients` students, none connected, each with a browser
subscription, in group conversations of `--group` with one consultant; the consultant, connected by
socket, sends one message to each conversation as fast as acks come (the burst). For each recipient:
the time from their message's ack to their push's arrival at the push service. Prints p50, p99 and
max, and what was lost or doubled. Goal: p99 within grace + 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")

import django  # noqa: E402

django.setup()

import psutil  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from bench.servers import free_port, wait_until_up  # noqa: E402
from conftest import access_token_for  # noqa: E402
from devices.models import Device, DeviceKind  # noqa: E402
from devices.tests.standins import WebPushEndpoint, vapid_pair  # noqa: E402
from messaging.tests.factories import make_conversation  # noqa: E402
from offices.models import Office  # noqa: E402


def people(recipients: int, group: int, endpoint: WebPushEndpoint) -> tuple[User, list[tuple[int, list[str]]]]:
    tag = uuid.uuid4().hex[:8]
    office = Office.objects.create(name=f"Push bench {tag}", timezone="UTC")
    consultant = User.objects.create_user(
        email=f"consultant-{tag}@bench.example", password=None, role=Role.CONSULTANT, office=office, first_name="Bench"
    )
    students = User.objects.bulk_create(
        [
            User(email=f"student-{tag}-{n}@bench.example", role=Role.STUDENT, office=office, first_name=f"S{n}")
            for n in range(recipients)
        ]
    )
    devices, conversations = [], []
    for start in range(0, recipients, group):
        members = students[start : start + group]
        conversation = make_conversation(consultant, *members, office=office, title=f"Cohort {start // group}")
        names = []
        for student in members:
            name = f"{tag}-{student.pk}"
            subscription = endpoint.subscription(name)
            devices.append(
                Device(
                    user=student,
                    kind=DeviceKind.WEBPUSH,
                    token=subscription["endpoint"],
                    p256dh=subscription["keys"]["p256dh"],
                    auth=subscription["keys"]["auth"],
                )
            )
            names.append(name)
        conversations.append((conversation.pk, names))
    Device.objects.bulk_create(devices)
    return consultant, conversations


async def burst(port: int, token: str, conversations: list[tuple[int, list[str]]]) -> dict[int, float]:
    """One message to each conversation; when each was acknowledged (stored)."""
    acked: dict[int, float] = {}
    async with connect(f"ws://127.0.0.1:{port}/ws/?token={token}", max_size=None) as ws:
        for conversation_id, _ in conversations:
            frame = {
                "event": "send_message",
                "id": str(conversation_id),
                "data": {"conversation_id": conversation_id, "content": "Deadline moved to Friday"},
            }
            await ws.send(json.dumps(frame))
        while len(acked) < len(conversations):
            reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if reply.get("event") == "ack":
                acked[int(reply["id"])] = time.time()
            elif reply.get("event") == "error":
                raise SystemExit(f"send refused: {reply}")
    return acked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--group", type=int, default=50)
    parser.add_argument("--grace", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--service-ms", type=float, default=0, help="the push service's answer time (a real one is 20-100 ms away)"
    )
    args = parser.parse_args()

    private, public = vapid_pair()
    subject = "mailto:bench@example.com"
    with WebPushEndpoint(public, subject) as endpoint:
        endpoint.delay = args.service_ms / 1000
        env = {
            **os.environ,
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "PUSH_GRACE_SECONDS": str(args.grace),
            "WEBPUSH_VAPID_PRIVATE_KEY": private,
            "WEBPUSH_VAPID_PUBLIC_KEY": public,
            "WEBPUSH_VAPID_SUBJECT": subject,
            "WEBPUSH_ALLOWED_ENDPOINTS": f"{endpoint.base}/push/",
            "RATE_LIMIT_MAX_REQUESTS": "1000000",
            "SOCKET_RATE_LIMIT": "100000",
        }
        consultant, conversations = people(args.recipients, args.group, endpoint)
        token = access_token_for(consultant)
        port = free_port()
        python = str(ROOT / ".venv" / "bin" / "python")
        server = subprocess.Popen(
            [python, "-m", "crm_project.serve", "--port", str(port), "--workers", "1"], cwd=ROOT, env=env
        )
        worker = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "celery"),
                "-A",
                "crm_project",
                "worker",
                "--concurrency",
                str(args.concurrency),
                "--loglevel",
                os.environ.get("BENCH_WORKER_LOG", "WARNING"),
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            wait_until_up(port)
            time.sleep(3)  # the worker connected

            def worker_cpu_now() -> float:
                tree = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
                return sum(sum(process.cpu_times()[:2]) for process in tree)

            cpu_before = worker_cpu_now()
            acked = asyncio.run(burst(port, token, conversations))
            wanted = sum(len(names) for _, names in conversations)
            deadline = time.time() + args.grace + 60
            while len(endpoint.received) < wanted and time.time() < deadline:
                time.sleep(0.1)
            time.sleep(2)  # anything doubled arrives by now
            worker_cpu = worker_cpu_now() - cpu_before
        finally:
            server.terminate()
            worker.terminate()
            server.wait(30)
            worker.wait(60)
    conversation_of = {name: conversation_id for conversation_id, names in conversations for name in names}
    latencies = sorted(
        push["arrived"] - acked[conversation_of[push["name"]]]
        for push in endpoint.received
        if push["name"] in conversation_of
    )
    counts = Counter(push["name"] for push in endpoint.received)
    lost = sum(1 for name in conversation_of if name not in counts)
    doubled = sum(n - 1 for n in counts.values() if n > 1)
    burst_span = max(acked.values()) - min(acked.values())
    result = {
        "recipients": wanted,
        "conversations": len(conversations),
        "grace_s": args.grace,
        "burst_s": round(burst_span, 3),
        "received": len(endpoint.received),
        "lost": lost,
        "doubled": doubled,
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p99_s": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 3) if latencies else None,
        "max_s": round(latencies[-1], 3) if latencies else None,
        "min_s": round(latencies[0], 3) if latencies else None,
        "goal_p99_s": args.grace + 2,
        "service_ms": args.service_ms,
        "send_threads": int(os.environ.get("PUSH_SEND_THREADS", 8)),
        "worker_cpu_ms_per_push": round(worker_cpu * 1000 / max(len(endpoint.received), 1), 2),
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
