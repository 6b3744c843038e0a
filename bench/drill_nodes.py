"""The drills' servers (bench/drills.py): server nodes started and stopped like machines, a private
PostgreSQL, and a plain HTTP GET against a node."""

from __future__ import annotations

import asyncio
import glob
import json
import os
import pwd
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from bench.servers import free_port

ROOT = Path(__file__).resolve().parent.parent


class Node:
    """One server instance (`crm_project.serve`: granian's main process and one worker) in its own process group."""

    def __init__(self, env: dict, log_dir: Path, number: int):
        self.port = free_port()
        self.log = open(log_dir / f"node-{number}.log", "w+")  # noqa: SIM115 - the node's own, closed by stop()
        self.process = subprocess.Popen(
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
                *os.environ.get("DRILL_SERVER_ARGS", "").split(),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL to the launcher and its worker at once: a machine gone."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def terminate(self) -> None:
        """SIGTERM to the launcher, as a supervisor stops it for a deploy: its workers close their sockets (1012)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def cpu_seconds(self) -> float:
        """CPU time of the launcher and its worker so far (0 once killed)."""
        try:
            processes = [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children()]
            return sum(sum(p.cpu_times()[:2]) for p in processes)
        except psutil.Error:
            return 0.0

    def log_size(self) -> int:
        return Path(self.log.name).stat().st_size

    def tracebacks(self, start: int = 0, end: int | None = None) -> int:
        """Tracebacks the node logged between two log sizes."""
        with open(self.log.name, "rb") as log:
            log.seek(start)
            return log.read(None if end is None else end - start).count(b"Traceback")


def node_env(**extra) -> dict:
    return {**os.environ, "DEBUG": "false", "LOG_LEVEL": "WARNING", "ALLOWED_WS_ORIGINS": "", **extra}


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (the machine's binaries) on a free port, stopped and started at will."""

    def __init__(self, directory: Path):
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.dir, self.port = directory, free_port()
        self.as_user = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.as_user = ["runuser", "-u", "postgres", "--"]
            os.chown(directory, pwd.getpwnam("postgres").pw_uid, pwd.getpwnam("postgres").pw_gid)
        self._run("initdb", "-D", str(directory / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "crm_drill")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/crm_drill"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def close(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            self.stop()


async def http_get(port: int, path: str, token: str) -> tuple[int, dict | None]:
    """One GET on a new connection (the drill must not depend on a client library's pooling)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Connection: close\r\n\r\n".encode()
        )
        raw = await reader.read()
    finally:
        writer.close()
    try:
        return _response(raw)
    except (IndexError, ValueError) as exc:
        # A node that stops closes the connections it has not answered, or cuts an answer short: a
        # failed connection, as a browser's fetch or a balancer would see it, not an answer.
        raise ConnectionResetError(f"the connection closed before a whole answer ({len(raw)} bytes)") from exc


def _response(raw: bytes) -> tuple[int, dict | None]:
    """The status and JSON body of a whole HTTP/1.1 answer; IndexError or ValueError for a cut one."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if not separator:
        raise ValueError("no end of headers")
    if b"transfer-encoding: chunked" in head.lower():
        chunks, rest = [], body
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if not size:
                break
            if len(rest) < size:
                raise ValueError("a chunk cut short")
            chunks.append(rest[:size])
            rest = rest[size + 2 :]
        body = b"".join(chunks)
    return status, json.loads(body) if body else None
