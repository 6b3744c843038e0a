"""Serve HTTP and WebSockets with several daphne processes on one port.

One daphne process runs Python on one core at a time, so a machine with N cores needs N
processes. This launcher binds the listening socket once and starts `WEB_CONCURRENCY`
daphne workers that adopt it (`daphne --fd`); the kernel hands each new connection to
one of them. Everything shared between processes already lives in PostgreSQL and Redis
(channel layer, socket registry, presence, throttles), so a WebSocket on one worker
receives events sent from another.

    python -m crm_project.serve [--host 127.0.0.1] [--port 8000] [--workers N] [daphne options...]

Options the launcher does not know (e.g. `--ping-interval`) are passed to every worker, but
for daphne's `--proxy-headers` (it believes X-Forwarded-For from anyone; `TRUSTED_PROXIES` says
whose headers to believe, see core/edge.py) and `--access-log` (the access log is the
`crm.access` logger, JSON and with tokens masked; daphne's own is discarded).
SIGTERM / SIGINT stop the workers (SIGKILL after `--grace` seconds); if one worker dies,
the others are stopped and the launcher exits with its code, so a supervisor (Docker,
systemd) restarts the whole server instead of running on with fewer workers.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def default_workers() -> int:
    """WEB_CONCURRENCY from settings (loading them also starts the embedded dev services once,
    so the workers inherit DATABASE_URL / REDIS_URL instead of racing to start them)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")  # read at first use below
    return settings.WEB_CONCURRENCY


def bind(host: str, port: int, count: int, backlog: int = 2048) -> list[socket.socket]:
    """`count` listening sockets on one address, one per worker.

    With SO_REUSEPORT (Linux) each worker gets its own socket and the kernel spreads new
    connections evenly over them. One shared socket would be simpler, but then whichever
    worker wakes first accepts every waiting connection (measured: all 32 of the bench's).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    reuse_port = hasattr(socket, "SO_REUSEPORT")
    sockets = []
    for _ in range(count if reuse_port else 1):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        port = sock.getsockname()[1]  # --port 0: every socket on the port the first one got
        sock.listen(backlog)
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


REFUSED_OPTIONS = {
    "--proxy-headers": "set TRUSTED_PROXIES to the proxies' addresses instead (docs/security.md)",
    "--access-log": "the access log is the crm.access logger (LOG_LEVEL, LOG_FORMAT)",
}


def refused_option(daphne_args: list[str]) -> str | None:
    for arg in daphne_args:
        for option, instead in REFUSED_OPTIONS.items():
            if arg.split("=", 1)[0].startswith(option):
                return f"{arg.split('=', 1)[0]} is not supported: {instead}"
    return None


# Seconds a socket may take to open (daphne's default: 5). When a node dies and its clients all
# reconnect to another one, sockets queue up there; after 5 s daphne dropped them, the clients came
# back, and the node redid the work: 33 s to absorb 500 sockets, 13 s with 30 (bench/drills.py).
WEBSOCKET_CONNECT_TIMEOUT = 30


def daphne_command(daphne_args: list[str]) -> list[str]:
    """One daphne process serving the project. Its own access log (the full URL, tokens and all,
    straight to stdout) is discarded: core.edge writes the access log through logging."""
    if not any(arg.split("=", 1)[0] == "--websocket_connect_timeout" for arg in daphne_args):
        daphne_args = ["--websocket_connect_timeout", str(WEBSOCKET_CONNECT_TIMEOUT), *daphne_args]
    return [sys.executable, "-m", "daphne", *daphne_args, "--access-log", os.devnull, "crm_project.asgi:application"]


def worker_command(fd: int, daphne_args: list[str]) -> list[str]:
    return daphne_command(["--fd", str(fd), *daphne_args])


def stop(workers: list[subprocess.Popen], grace: float) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    deadline = time.monotonic() + grace
    for worker in workers:
        try:
            worker.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            # daphne can hang on shutdown while a request thread waits for the stopped loop
            worker.kill()
            worker.wait()


def serve(*, host: str, port: int, workers: int, grace: float, daphne_args: list[str]) -> int:
    sockets = bind(host, port, workers)
    stopping = []

    def on_signal(signum, _frame):
        stopping.append(signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    running = []
    try:
        for n in range(workers):
            fd = sockets[n % len(sockets)].fileno()
            running.append(subprocess.Popen(worker_command(fd, daphne_args), pass_fds=(fd,)))
        address = sockets[0].getsockname()
        print(
            f"[serve] {workers} daphne workers on http://{address[0]}:{address[1]} "
            f"(pids {' '.join(str(w.pid) for w in running)})",
            file=sys.stderr,
            flush=True,
        )
        while not stopping:
            exited = next((w for w in running if w.poll() is not None), None)
            if exited is not None and not stopping:  # Ctrl-C reaches the workers too
                print(
                    f"[serve] worker {exited.pid} exited with {exited.returncode}; stopping the others",
                    file=sys.stderr,
                    flush=True,
                )
                return exited.returncode or 1
            time.sleep(0.2)
        return 0
    finally:
        stop(running, grace)
        for sock in sockets:
            sock.close()


def arguments(argv: list[str] | None = None) -> tuple[argparse.ArgumentParser, argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # This machine only unless asked: a development server (demo logins printed) must not be reachable
    # from the network by accident. The Docker image listens on every interface (--host 0.0.0.0).
    parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=None, help="default: WEB_CONCURRENCY (number of cores)")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds workers get to stop before SIGKILL")
    args, daphne_args = parser.parse_known_args(argv)
    return parser, args, daphne_args


def main(argv: list[str] | None = None) -> int:
    parser, args, daphne_args = arguments(argv)
    workers = args.workers or default_workers()
    if workers < 1:
        parser.error("--workers must be at least 1")
    if refused := refused_option(daphne_args):
        parser.error(refused)
    return serve(host=args.host, port=args.port, workers=workers, grace=args.grace, daphne_args=daphne_args)


if __name__ == "__main__":
    sys.exit(main())
