"""`python -m crm_project.serve`: several granian workers on one port, HTTP and WebSockets."""

import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect as ws_connect

from accounts.tests.factories import ConsultantFactory
from conftest import access_token_for
from core.tests.live_server import ROOT, free_port, server_env
from crm_project.serve import granian_command, main, refused_option
from messaging.tests.factories import make_conversation

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="finds the serving worker through /proc"),
]


def serving_pid(port: int, client_port: int, pids: list[int]) -> int | None:
    """Which of `pids` holds the server side of the connection from `client_port`."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
            if int(local, 16) == port and int(remote, 16) == client_port:
                inode = fields[9]
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


@pytest.fixture
def launcher(tmp_path):
    port, workers = free_port(), []
    env = server_env()
    log = open(tmp_path / "serve.log", "w+")  # noqa: SIM115 - read on a failed start, closed in the finally
    process = subprocess.Popen(
        [sys.executable, "-m", "crm_project.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError as exc:
                if time.monotonic() > deadline or process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"serve did not start:\n{log.read()}") from exc
                time.sleep(0.2)
        workers = worker_pids(process.pid)
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pid in workers:  # never leave a worker behind, whatever the test did
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


def worker_pids(launcher_pid: int) -> list[int]:
    children = Path(f"/proc/{launcher_pid}/task/{launcher_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def test_two_workers_share_the_port_and_stop_cleanly(launcher, consultant):
    process, port = launcher
    workers = worker_pids(process.pid)
    assert len(workers) == 2
    answered = set()
    for _ in range(40):  # each new connection lands on one worker; both must get some
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/health")
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["status"] == "ok"
        answered.add(serving_pid(port, connection.sock.getsockname()[1], workers))
        connection.close()
    assert answered == set(workers)

    # WebSockets work through it too
    token = access_token_for(consultant)

    async def ping():
        async with ws_connect(f"ws://127.0.0.1:{port}/ws/?token={token}") as ws:
            await ws.send(json.dumps({"event": "ping", "id": "p"}))
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if frame["event"] == "ack":
                    return frame["id"]

    assert asyncio.run(ping()) == "p"

    # a request body in, a streamed body out, and the one error shape, through core.handlers

    conversation = make_conversation(consultant, ConsultantFactory(office=consultant.office), office=consultant.office)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(method, path, body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}",
            method=method,
            headers=headers,
            data=json.dumps(body).encode() if body is not None else None,
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    for n in range(3):
        status, _ = call("POST", "/api/v1/messages", {"conversation_id": conversation.id, "content": f"line {n}"})
        assert status == 201
    status, body = call("GET", f"/api/v1/conversations/{conversation.id}/export?format=csv")
    assert status == 200 and [line.split(",")[0] for line in body.decode().splitlines()[1:]] == ["1", "2", "3"]
    status, body = call("GET", f"/api/v1/conversations/{conversation.id}/messages?limit=2")
    assert status == 200 and [m["seq"] for m in json.loads(body)["results"]] == [2, 3]
    status, body = call("GET", "/api/v1/conversations/999999/messages")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_a_message_sent_through_one_worker_reaches_a_socket_on_the_other(launcher, consultant):
    """The workers share nothing but PostgreSQL and Redis: a send on one is pushed on the other."""
    process, port = launcher
    workers = worker_pids(process.pid)
    other = ConsultantFactory(office=consultant.office)
    conversation = make_conversation(consultant, other, office=consultant.office)
    tokens = access_token_for(consultant), access_token_for(other)

    async def on_worker(token: str, avoid: int | None):
        """A socket of the token's user, on a worker other than `avoid` (the kernel picks: try again)."""
        for _ in range(30):
            ws = await ws_connect(f"ws://127.0.0.1:{port}/ws/?token={token}")
            worker = serving_pid(port, ws.local_address[1], workers)
            if worker != avoid:
                return ws, worker
            await ws.close()
            await asyncio.sleep(0.2)  # its slot given back (SOCKET_MAX_CONNECTIONS_PER_USER)
        raise AssertionError("every socket landed on one worker")

    async def scenario():
        sender, sender_worker = await on_worker(tokens[0], None)
        receiver, receiver_worker = await on_worker(tokens[1], sender_worker)
        assert {sender_worker, receiver_worker} == set(workers)
        frame = {"conversation_id": conversation.id, "content": "across workers", "client_id": "x-1"}
        await sender.send(json.dumps({"event": "send_message", "id": "s", "data": frame}))
        while True:
            pushed = json.loads(await asyncio.wait_for(receiver.recv(), 10))
            if pushed["event"] == "message_received":
                assert pushed["data"]["content"] == "across workers"
                break
        await sender.close()
        await receiver.close()

    asyncio.run(scenario())


def test_a_dead_worker_stops_the_server(launcher):
    process, _ = launcher
    workers = worker_pids(process.pid)
    os.kill(workers[0], signal.SIGKILL)
    assert process.wait(timeout=20) != 0
    for pid in workers[1:]:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_granians_own_access_log_and_other_unsafe_options_are_refused(capsys):
    """granian's access log writes whole URLs, tokens included (crm.access replaces it); the app is served
    over ASGI with its lifespan (the graceful shutdown); a dead worker stops the server, it is not respawned."""
    for option in ("--access-log", "--access-log-fmt=%(path)s", "--interface=asginl", "--respawn-failed-workers"):
        with pytest.raises(SystemExit) as exited:
            main(["--workers", "1", option])
        assert exited.value.code == 2 and "not supported" in capsys.readouterr().err
    command = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD"))
    assert "crm_project.serve" in command and refused_option(command.split()) is None


def test_the_operators_granian_options_come_after_the_projects():
    """click takes the last value of an option: what the operator passes wins over the defaults."""
    command = granian_command(host="0.0.0.0", port=8000, workers=2, grace=10, granian_args=["--backpressure", "64"])
    assert command[-1] == "crm_project.asgi:application"
    assert command.index("64") > command.index("--backpressure") and command.count("--backpressure") == 2
    assert command[command.index("--loop") + 1] == "uvloop" and command[command.index("--workers") + 1] == "2"
    assert "--no-access-log" in command and command[command.index("--workers-kill-timeout") + 1] == "10"
