"""The TypeScript SDK (clients/sdk) against a live server, with Node's test runner.

The server is a real daphne process on the test database, with a Redis of its own (to stop and
start) and behind a TCP relay (to cut every connection at once). The Node tests drive the scenarios
and ask this harness, over a small HTTP control endpoint, to cut connections, restart the server,
stop or start Redis, or mint a short-lived token. Afterwards the database is checked: every message
sent is stored exactly once.

Needs Node.js (>= 20) and `npm ci` in clients/sdk (run here when node_modules is missing; `.ci/run`
does it beforehand)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.tests.factories import PASSWORD, ConsultantFactory
from core.tests.live_server import ROOT, PrivateRedis, TcpProxy, server_env, start_daphne, wait_until_serving
from messaging.models import Message
from messaging.tests.factories import make_conversation
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db(transaction=True)
NODE, NPM = shutil.which("node") or "node", shutil.which("npm") or "npm"
SDK = ROOT / "clients" / "sdk"


def node_flags() -> list[str]:
    version = subprocess.run([NODE, "--version"], capture_output=True, text=True, check=True).stdout
    return ["--experimental-websocket"] if int(version.strip("v\n").split(".")[0]) < 22 else []


def chosen_test_files() -> list[str]:
    chosen = os.environ.get("SDK_TEST_FILES")
    return chosen.split(",") if chosen else sorted(str(p.relative_to(SDK)) for p in (SDK / "test").glob("*.test.mjs"))


def build_sdk() -> None:
    """npm ci when the dependencies are missing, then compile (tsc): the tests import dist/."""
    if not (SDK / "node_modules").exists():
        subprocess.run([NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SDK, check=True)
    subprocess.run([NPM, "run", "-s", "build"], cwd=SDK, check=True)


class Server:
    """daphne on the test database with its own Redis, behind a relay; restartable."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.redis = PrivateRedis()
        self.redis.start()
        self.env = server_env(
            DJANGO_SETTINGS_MODULE="clients.sdk_live_settings",
            REDIS_URL=self.redis.url,
            LOGIN_RATE_PER_ACCOUNT="1000/min",
            LOGIN_RATE_PER_ADDRESS="1000/min",
            RATE_LIMIT_ANON_REQUESTS="100000",
        )
        self.process, port = self._start()
        self.proxy = TcpProxy(("127.0.0.1", port))
        self.restarts = 0

    def _start(self):
        log = open(self.log_dir / f"daphne-{id(self)}-{getattr(self, 'restarts', 0)}.log", "w")  # noqa: SIM115
        process, port = start_daphne(log, self.env)
        wait_until_serving([port])
        return process, port

    def restart(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.proxy.cut()  # what clients see of a stopped server: connections dropped, new ones refused
        self.restarts += 1
        self.process, port = self._start()
        self.proxy.target = ("127.0.0.1", port)
        self.proxy.restore()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.proxy.cut()
        self.redis.stop()


def mint(email: str, seconds: int) -> dict:
    """A token pair whose access token lives `seconds` (a session about to expire)."""
    user = User.objects.get(email=email)
    refresh = RefreshToken.for_user(user)
    access = AccessToken.for_user(user)
    access.set_exp(lifetime=timedelta(seconds=seconds))
    return {"access": str(access), "refresh": str(refresh), "expires_in": seconds}


def control_server(server: Server) -> ThreadingHTTPServer:
    class Control(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            answer: dict = {}
            try:
                if self.path == "/cut":
                    server.proxy.cut()
                    server.proxy.restore()
                elif self.path == "/restart":
                    server.restart()
                elif self.path == "/redis/stop":
                    server.redis.stop()
                elif self.path == "/redis/start":
                    server.redis.start()
                elif self.path == "/token":
                    answer = mint(body["email"], int(body["seconds"]))
                else:
                    self.send_error(404)
                    return
            finally:
                connection.close()  # this thread's database connection
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Control)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


@pytest.fixture
def people():
    office = OfficeFactory(name="SDK")
    alice, bob, carol = (
        ConsultantFactory(office=office, email=f"{name}@sdk.example.com", first_name=name.title())
        for name in ("alice", "bob", "carol")
    )
    chat = make_conversation(alice, bob, office=office, title="SDK chat")
    return alice, bob, carol, chat


def test_the_sdk_against_a_live_server(tmp_path, people):
    assert shutil.which("node") and shutil.which("npm"), "Node.js and npm run the SDK's tests"
    chat = people[-1]
    build_sdk()
    server = Server(tmp_path)
    control = control_server(server)
    try:
        # The SDK's types are the server's: generated again from the live documents, equal to the committed ones.
        generated = tmp_path / "generated"
        subprocess.run(
            [
                NODE,
                "scripts/generate.mjs",
                "--server",
                f"http://127.0.0.1:{server.proxy.port}",
                "--out",
                str(generated),
            ],
            cwd=SDK,
            check=True,
            capture_output=True,
        )
        for name in ("openapi.ts", "socket.ts"):
            committed = (SDK / "src" / "generated" / name).read_text()
            assert (generated / name).read_text() == committed, f"run `npm run generate` in clients/sdk: {name} differs"
        done = subprocess.run(
            # (each test's own limit; SDK_TEST_FILES picks files while working on them)
            [
                NODE,
                *node_flags(),
                "--test",
                "--test-concurrency=1",
                "--test-timeout=120000",
                "--test-force-exit",
                *chosen_test_files(),
            ],
            cwd=SDK,
            env={
                "PATH": server.env["PATH"],
                "CRM_URL": f"http://127.0.0.1:{server.proxy.port}",
                "CRM_CONTROL": f"http://127.0.0.1:{control.server_address[1]}",
                "CRM_PASSWORD": PASSWORD,
                "CRM_CHAT": str(chat.id),
                "CRM_STORM_LIMIT": "40",
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        control.shutdown()
        server.stop()
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    # Nothing doubled: every client_id once (the database's rule), and seqs without holes.
    seqs = list(Message.objects.filter(conversation=chat).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    client_ids = list(
        Message.objects.filter(conversation=chat, client_id__isnull=False).values_list("client_id", flat=True)
    )  # (uploads carry none)
    assert len(client_ids) == len(set(client_ids))
    if not os.environ.get("SDK_TEST_FILES"):
        assert len(seqs) >= 120  # what the scenarios send to the one conversation
