"""Messaging benchmarks: search, inbox list, history pages over HTTP. Prints figures.

Data is generated in SQL (generate_series), so a million messages take about a minute.
Usage: python bench/messaging_bench.py [--messages N] [--only search|inbox|http ...] [--http-seconds S]
                                      [--http-runs N] [--workers N]
The HTTP part serves through `python -m crm_project.serve` with RATE_LIMIT_MAX_REQUESTS raised
(one token is one user) and fails if any answer is not 2xx.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")
# One bench user makes hundreds of requests a minute; the per-user API limit (600/min) is for people.
os.environ.setdefault("RATE_LIMIT_MAX_REQUESTS", "100000000")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

import crm_project.asgi  # noqa: E402, F401  (loads the app as the server does, garbage collector included)
from accounts.models import Role, User  # noqa: E402
from bench.servers import free_port, wait_until_up  # noqa: E402
from offices.models import Office  # noqa: E402

DEEP_PAGES = 10_000

WORDS = (
    "visa application passport transcript deadline interview scholarship tuition offer letter "
    "university campus housing insurance appointment document payment english test score"
).split()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def timed(fn, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def report(name, samples, goal):
    print(f"{name:<52} p50 {statistics.median(samples):7.2f} ms   p95 {pct(samples, 95):7.2f} ms   (goal {goal})")


def generate(messages: int) -> tuple[User, User, int]:
    call_command("migrate", verbosity=0)
    office, _ = Office.objects.get_or_create(name="Bench office")
    heavy, _ = User.objects.get_or_create(
        email="bench-heavy@example.com", defaults={"role": Role.CONSULTANT, "office": office}
    )
    admin, _ = User.objects.get_or_create(email="bench-admin@example.com", defaults={"role": Role.SUPER_ADMIN})
    conversations = 2000
    # Conversation 1 holds a history of DEEP_PAGES pages of 50 (the "10,000th page" is real);
    # the rest of the messages are spread over the other conversations.
    deep = min(messages // 2, DEEP_PAGES * 50)
    per = max(1, (messages - deep) // (conversations - 1))
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM messaging_message")
        if cur.fetchone()[0] >= deep + per * (conversations - 1):  # what the generator writes (not quite N)
            cur.execute("SELECT max(id) FROM messaging_conversation")
            return heavy, admin, cur.fetchone()[0]
        print(f"generating {messages:,} messages ...", flush=True)
        started = time.perf_counter()
        cur.execute(
            "TRUNCATE messaging_message, messaging_participant, messaging_conversation RESTART IDENTITY CASCADE"
        )
        cur.execute(f"""
            INSERT INTO messaging_conversation
                (type, title, office_id, direct_key, last_seq, last_activity_at, created_at, updated_at)
            SELECT 'group', 'bench ' || g, {office.id}, NULL, 0, now() - (g || ' minutes')::interval, now(), now()
            FROM generate_series(1, {conversations}) g""")
        # the heavy user is in 500 conversations; a partner in each
        cur.execute(f"""
            INSERT INTO messaging_participant
                (conversation_id, user_id, role, joined_at, last_read_seq, last_delivered_seq, is_archived, is_pinned)
            SELECT g, {heavy.id}, 'member', now(), 0, 0, false, false FROM generate_series(1, 500) g""")
        words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
        content = (
            f"({words})[1 + (c * 7 + s * 13) % {len(WORDS)}] || ' ' || ({words})[1 + (c * 3 + s * 5) % {len(WORDS)}]"
            f" || ' message ' || s || ' about ' || ({words})[1 + (s * 11) % {len(WORDS)}]"
        )
        for first, last, count in ((1, 1, deep), (2, conversations, per)):
            cur.execute(f"""
                INSERT INTO messaging_message (conversation_id, seq, sender_id, type, content, created_at)
                SELECT c, s, {heavy.id}, 'text', {content}, now() - ((c * {per} + {count} - s) || ' seconds')::interval
                FROM generate_series({first}, {last}) c, generate_series(1, {count}) s""")
        cur.execute("""
            UPDATE messaging_conversation c SET last_seq = m.seq, last_message_id = m.id
            FROM (SELECT DISTINCT ON (conversation_id) conversation_id, seq, id FROM messaging_message
                  ORDER BY conversation_id, seq DESC) m
            WHERE m.conversation_id = c.id""")
        cur.execute("UPDATE messaging_participant SET last_read_seq = 3")
        cur.execute("VACUUM ANALYZE")  # what autovacuum does to a real table: visibility map, GIN pending list flushed
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
        return heavy, admin, conversations


def bench_search(user, label):
    client = Client()
    token = str(RefreshToken.for_user(user).access_token)
    queries = [random.choice(WORDS) for _ in range(60)] + [
        f"{random.choice(WORDS)} {random.choice(WORDS)}" for _ in range(40)
    ]
    it = iter(queries)

    def run():
        response = client.get("/api/v1/messages/search", {"q": next(it)}, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200

    report(f"search over HTTP handler ({label})", timed(run, len(queries)), "p95 <= 50 ms")


def bench_inbox(user):
    client = Client()
    token = str(RefreshToken.for_user(user).access_token)

    def run():
        response = client.get("/api/v1/conversations?limit=30", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200 and len(response.json()["results"]) == 30

    timed(run, 5)
    report("conversation list, user in 500 conversations", timed(run, 100), "p95 <= 30 ms")


def _cpu_seconds(pids) -> float:
    """User + system CPU of these processes so far (Linux /proc), 0 where unknown."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def _backend_pids() -> list[int]:
    """PostgreSQL backends serving the bench database (their CPU is part of a request's cost)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return [row[0] for row in cur.fetchall()]


def _wrk(url, token, seconds):
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "-H", f"Authorization: Bearer {token}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests = int(next(line for line in out.splitlines() if "requests in" in line).split()[0])
    failed = next((int(line.split()[-1]) for line in out.splitlines() if "Non-2xx" in line), 0)
    errors = next((line.strip() for line in out.splitlines() if "Socket errors" in line), "")
    rps = float(next(line for line in out.splitlines() if "Requests/sec" in line).split()[-1])
    return requests, failed, errors, rps


def bench_http(user, conversation_id, seconds, workers, runs):
    """History pages through `crm_project.serve` (the production launcher: `workers` granian
    processes on one port). Only 2xx answers count: any other status fails the bench."""
    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        print("wrk not installed (apt-get install wrk): skipping HTTP throughput")
        return
    port = free_port()
    # One bench token makes every request one user's: the per-user API rate limit
    # (RATE_LIMIT_MAX_REQUESTS, 600/min) would answer 429 to nearly all of them, so the
    # bench raises it for its server. DEBUG stays off.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_project.settings.dev",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_MAX_REQUESTS": "100000000",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crm_project.serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port)
        worker_pids = (
            [int(pid) for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]
            if Path("/proc").exists()
            else []
        )
        token = str(RefreshToken.for_user(user).access_token)
        with connection.cursor() as cur:
            cur.execute("SELECT last_seq FROM messaging_conversation WHERE id = %s", [conversation_id])
            last = cur.fetchone()[0]
        base = f"http://127.0.0.1:{port}/api/v1/conversations/{conversation_id}/messages"
        pages = (("first page", "limit=50"), (f"page {last // 50:,}", f"before={1 + last % 50 + 50}&limit=50"))
        _wrk(f"{base}?limit=50", token, 2)  # warm-up: pooled connections, prepared statements
        for label, query in pages:
            for run in range(1, runs + 1):
                backends = _backend_pids()
                cpu_before, pg_before = _cpu_seconds(worker_pids), _cpu_seconds(backends)
                load = os.getloadavg()[0]
                requests, failed, errors, rps = _wrk(f"{base}?{query}", token, seconds)
                cpu = (_cpu_seconds(worker_pids) - cpu_before) * 1000 / max(requests, 1)
                pg = (_cpu_seconds(backends) - pg_before) * 1000 / max(requests, 1)
                if failed or errors:
                    raise SystemExit(
                        f"history page over HTTP, {label}: {failed} of {requests} answers were not 2xx "
                        f"{errors}; throughput would be meaningless"
                    )
                print(
                    f"history page over HTTP, {label:<12} run {run} ({workers} granian workers, wrk -c32)"
                    f" {rps:8.0f} req/s   (goal >= 800)   CPU/request: server {cpu:.2f} ms,"
                    f" postgres {pg:.2f} ms; load before {load:.1f}"
                )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--http-seconds", type=int, default=10)
    parser.add_argument("--http-runs", type=int, default=3, help="wrk runs per page (the machine may be shared)")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="server workers for the HTTP part (default: WEB_CONCURRENCY, one per core)",
    )
    parser.add_argument(
        "--only",
        choices=("search", "inbox", "http"),
        action="append",
        help="run only these parts (repeatable); default: all",
    )
    args = parser.parse_args()
    parts = set(args.only or ("search", "inbox", "http"))
    heavy, admin, _ = generate(args.messages)
    print(f"messages: {args.messages:,}; postgres {connection.cursor().connection.info.server_version}")
    if "search" in parts:
        bench_search(heavy, "a consultant in 500 conversations")
        bench_search(admin, "super admin, every conversation")
    if "inbox" in parts:
        bench_inbox(heavy)
    if "http" in parts:
        bench_http(heavy, 1, args.http_seconds, args.workers or settings.WEB_CONCURRENCY, args.http_runs)


if __name__ == "__main__":
    main()
