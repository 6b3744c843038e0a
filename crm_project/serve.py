"""Serve HTTP and WebSockets in production: granian workers on one port.

The production server is the one that held the highest rate on the shared socket harness
(docs/performance.md, issue 27): granian, on uvloop. daphne stays the development server
(`manage.py runserver`) and the harness's reference.

    python -m crm_project.serve [--host 127.0.0.1] [--port 8000] [--workers N] [--grace S] [granian options...]

One Python process runs on one core at a time, so a machine with N cores needs N workers
(`WEB_CONCURRENCY`). granian starts them from one main process, each on its own SO_REUSEPORT
socket on the port (the kernel spreads new connections evenly over them). Everything shared
between processes already lives in PostgreSQL and Redis (channel layer, socket registry,
presence, throttles), so a WebSocket on one worker receives events sent from another.

The launcher loads the settings (which start the embedded dev services once, so the workers
inherit DATABASE_URL / REDIS_URL) and then becomes granian's main process (exec: in a
container it is PID 1 and receives SIGTERM itself):
- SIGTERM / SIGINT: the main process stops the workers. A worker given SIGTERM first closes its
  open sockets with 1012 after the frames in hand are answered (`core.edge`, graceful shutdown),
  then stops; one still running after `--grace` seconds is killed.
- A worker that dies stops the others and the server exits non-zero, so a supervisor (Docker,
  systemd) restarts the whole server instead of running on with fewer workers.
- granian's own access log (whole URLs, tokens and all) is never turned on: the access log is
  the `crm.access` logger (JSON, tokens masked). granian reads no proxy headers: the client's
  address and scheme come from `TRUSTED_PROXIES` only (core/edge.py).
Options the launcher does not know (e.g. `--backpressure 4096`) are passed to granian after its
own, so they win.
"""

from __future__ import annotations

import argparse
import os
import sys

from django.conf import settings

APPLICATION = "crm_project.asgi:application"

# Connections one worker holds at once. granian counts every open HTTP connection against it, idle
# keep-alive ones included (measured: with 2, a third client waited until it timed out, and so did a
# socket's handshake behind them); its default, backlog / workers (512 each with two workers), is
# what one load balancer's keep-alive pool or a few hundred browsers hold. Open WebSockets did not
# count (measured: three held with 2). Memory, the cap per user and the rate limits bound the rest.
BACKPRESSURE = 20_000
BACKLOG = 2048  # connections queued by the kernel while every worker is busy (a reconnect storm)


def default_workers() -> int:
    """WEB_CONCURRENCY from settings (loading them also starts the embedded dev services once,
    so the workers inherit DATABASE_URL / REDIS_URL instead of racing to start them)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")  # read at first use below
    return settings.WEB_CONCURRENCY


REFUSED_OPTIONS = {
    "--access-log": "the access log is the crm.access logger (LOG_LEVEL, LOG_FORMAT, ACCESS_LOG)",
    "--interface": f"the project is served over ASGI ({APPLICATION}) with its lifespan",
    "--respawn-failed-workers": "a dead worker stops the server, and the supervisor restarts it whole",
}


def refused_option(granian_args: list[str]) -> str | None:
    for arg in granian_args:
        for option, instead in REFUSED_OPTIONS.items():
            if arg.split("=", 1)[0].startswith(option):
                return f"{arg.split('=', 1)[0]} is not supported: {instead}"
    return None


def granian_command(*, host: str, port: int, workers: int, grace: float, granian_args: list[str]) -> list[str]:
    """granian serving the project: the options production relies on first, the operator's after."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",  # with lifespan: core.edge installs the graceful shutdown in each worker
        "--loop",
        "uvloop",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--backlog",
        str(BACKLOG),
        "--backpressure",
        str(BACKPRESSURE),
        "--workers-kill-timeout",
        str(max(1, round(grace))),
        "--no-access-log",
        "--log-level",
        "warning",
        *granian_args,
        APPLICATION,
    ]


def arguments(argv: list[str] | None = None) -> tuple[argparse.ArgumentParser, argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # This machine only unless asked: a development server (demo logins printed) must not be reachable
    # from the network by accident. The Docker image listens on every interface (--host 0.0.0.0).
    parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=None, help="default: WEB_CONCURRENCY (number of cores)")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds workers get to stop before SIGKILL")
    args, granian_args = parser.parse_known_args(argv)
    return parser, args, granian_args


def main(argv: list[str] | None = None) -> int:
    parser, args, granian_args = arguments(argv)
    workers = args.workers or default_workers()
    if workers < 1:
        parser.error("--workers must be at least 1")
    if refused := refused_option(granian_args):
        parser.error(refused)
    command = granian_command(
        host=args.host, port=args.port, workers=workers, grace=args.grace, granian_args=granian_args
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)  # granian's main process takes this one's place (and PID)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
