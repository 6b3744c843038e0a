"""The production server's own ceiling on the side-by-side harness's traffic: a minimal ASGI app that
speaks the harness's socket protocol (as `../shared/perf/peer/server.mjs` does: `POST /setup`, then
`send_message` -> `ack` + `message_received` to the other members) and does no other work at all: no
database, no Redis, no Django, sequence numbers in memory. Whatever rate granian cannot hold with this
app, the project cannot hold on one core either: it is the frames in and out alone.

    .venv/bin/python bench/server_ceiling.py [--rates "600 900 1200 1500"] [--duration 10] [--fanout await|gather]

Starts granian with `crm_project.serve`'s options (one worker, uvloop) on core 1 and the harness's
load generator (peer mode, 100 conversations of 10, 200 senders) on core 0, one run per rate, and
prints the generator's JSON line per rate. `--fanout gather` hands a message's frames to the server
all at once instead of one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
PERF = ROOT.parent / "shared" / "perf"

conversations: dict[int, dict] = {}
user_ids = itertools.count(1)
sockets: dict[int, set] = {}
GATHER = os.environ.get("CEILING_FANOUT") == "gather"
WORK_S = float(os.environ.get("CEILING_WORK_US", "0")) / 1e6  # Python work per message, on the loop


def busy(seconds: float) -> None:
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] == "http":
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] != "/setup":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            return await send({"type": "http.response.body", "body": b""})
        asked = json.loads(body or b"{}")
        members, count = asked.get("members", 10), asked.get("conversations", 1)
        users = [{"id": uid, "token": str(uid)} for uid in itertools.islice(user_ids, members * count)]
        made = []
        for c in range(count):
            cid = len(conversations) + 1
            ids = [u["id"] for u in users[c * members : (c + 1) * members]]
            conversations[cid] = {"members": ids, "seq": 0}
            made.append({"id": cid, "members": ids})
        answer = json.dumps({"users": users, "conversations": made}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        return await send({"type": "http.response.body", "body": answer})
    if scope["type"] != "websocket":
        return
    user = int(parse_qs(scope["query_string"].decode())["token"][0])
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    mine = sockets.setdefault(user, set())
    mine.add(send)
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            frame = json.loads(message["text"])
            if frame.get("event") != "send_message":
                continue
            data = frame["data"]
            conversation = conversations[data["conversation_id"]]
            conversation["seq"] += 1
            if WORK_S:
                busy(WORK_S)
            payload = {
                "conversation_id": data["conversation_id"],
                "seq": conversation["seq"],
                "sender_id": user,
                "type": "text",
                "content": data["content"],
            }
            await send(
                {"type": "websocket.send", "text": json.dumps({"event": "ack", "id": frame["id"], "data": payload})}
            )
            out = {"type": "websocket.send", "text": json.dumps({"event": "message_received", "data": payload})}
            targets = [s for uid in conversation["members"] if uid != user for s in sockets.get(uid, ())]
            if GATHER:
                await asyncio.gather(*(target(out) for target in targets))
            else:
                for target in targets:
                    await target(out)
    finally:
        mine.discard(send)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="600 900 1200 1500")
    parser.add_argument("--duration", default="10")
    parser.add_argument("--fanout", choices=("await", "gather"), default="await")
    parser.add_argument("--work-us", default="0", help="Python work per message on the loop (microseconds)")
    args = parser.parse_args()
    port = 8791
    perf = Path(tempfile.mkdtemp(prefix="server-ceiling-")) / "perf"  # as side_by_side.sh: a copy with its npm ci
    shutil.copytree(PERF, perf)
    subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=perf / "peer", check=True)
    env = {**os.environ, "CEILING_FANOUT": args.fanout, "CEILING_WORK_US": args.work_us, "PYTHONPATH": str(ROOT)}
    granian = [str(ROOT / ".venv" / "bin" / "granian"), "--interface", "asgi", "--host", "127.0.0.1"]
    granian += ["--port", str(port), "--workers", "1", "--loop", "uvloop", "--log-level", "warning"]
    granian += ["--backpressure", "20000", "bench.server_ceiling:app"]
    for rate in args.rates.split():
        server = subprocess.Popen(["taskset", "-c", "1", *granian], cwd=ROOT, env=env)
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                except urllib.error.HTTPError:
                    break  # answered (404): up
                except OSError:
                    time.sleep(0.1)
            load = ["taskset", "-c", "0", "node", str(perf / "loadgen.mjs"), "--target", "peer"]
            load += ["--base", f"http://127.0.0.1:{port}", "--members", "10", "--conversations", "100"]
            load += ["--rate", rate, "--duration", args.duration, "--senders", "200"]
            result = subprocess.run(load, capture_output=True, text=True, cwd=perf)
            line = (result.stdout.strip().splitlines() or [result.stderr[-300:]])[-1]
            name = f"granian-minimal-{args.fanout}-work{args.work_us}us"
            print(json.dumps({"server": name, "rate": int(rate), "result": line}))
            sys.stdout.flush()
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
