"""Real daphne processes for tests that need a live server (sockets, browsers, several processes)."""

import os
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

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
        "CHANNELS_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **extra_env,
    }


@contextmanager
def daphne_servers(log_dir: Path, count: int = 1, **extra_env):
    """`count` daphne processes on free ports sharing the test database and Redis; yields (ports, logs)."""
    env = server_env(**extra_env)
    processes, ports, logs = [], [], []
    try:
        for n in range(count):
            port = free_port()
            log = open(log_dir / f"daphne-{n}.log", "w+")
            processes.append(subprocess.Popen(
                daphne_command(["-b", "127.0.0.1", "-p", str(port)]),  # as crm_project.serve runs each worker
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            ))
            ports.append(port)
            logs.append(log)
        deadline = time.monotonic() + 30
        for port in ports:
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("daphne did not start")
                    time.sleep(0.2)
        yield ports, logs
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        for log in logs:
            log.close()
