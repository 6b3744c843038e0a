"""What scheduling pushes adds to the socket's send, in CPU per message: robust on a busy machine, where
the side-by-side harness's latencies move with the neighbours' load.

    export DATABASE_URL=... REDIS_URL=...
    .venv/bin/python bench/push_send_path.py [--rate 600] [--conversations 100] [--seconds 10] [--grace 5]

Calls `messaging.offline.note_sent` as the socket's send does, at `--rate` messages a second spread
over `--conversations`, for `--seconds`, with the scheduler's thread flushing to the real Redis and
publishing the burst jobs to the real broker; a thread stands in for the workers, taking the due
conversations off `push:due` (so bursts keep opening, as in production), and the jobs it would run
are deleted from the queue unrun. Prints the process CPU per message above the same loop without
the calls, the cost of one call on the event loop, and how many Redis round trips and jobs a second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from core.jobs import job_stats  # noqa: E402
from messaging import offline  # noqa: E402


def paced(rate: int, seconds: float, conversations: int, call: bool) -> float:
    """Process CPU seconds spent by `seconds` of sends at `rate`/s (with or without `note_sent`)."""
    start_cpu, start = time.process_time(), time.monotonic()
    n = 0
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate)
        while n < due:
            if call:
                offline.note_sent(1_000_000 + n % conversations)
            n += 1
        time.sleep(0.001)
    return time.process_time() - start_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=600)
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--grace", type=int, default=5)
    args = parser.parse_args()
    settings.PUSH_GRACE_SECONDS = args.grace
    client = offline._redis()
    due_key = offline._key("push:due")
    client.delete(due_key)
    queued_before = job_stats()["queued"]
    stop = threading.Event()

    def workers() -> None:  # what the jobs do first: take their conversations off push:due
        while not stop.wait(0.5):
            client.zremrangebyscore(due_key, "-inf", int(time.time() * 1000))

    helper = threading.Thread(target=workers, daemon=True)
    helper.start()
    try:
        baseline = paced(args.rate, args.seconds, args.conversations, call=False)
        flushes_before = offline.flush_count()
        with_push = paced(args.rate, args.seconds, args.conversations, call=True)
        offline.flush_now()
        flushes = offline.flush_count() - flushes_before
    finally:
        stop.set()
        helper.join()
    jobs = job_stats()["queued"] - queued_before
    started = time.perf_counter()
    for n in range(200_000):
        offline.note_sent(2_000_000 + n % args.conversations)
    per_call_us = (time.perf_counter() - started) / 200_000 * 1e6
    offline.flush_now()
    # leave nothing behind: the bench's jobs and bursts
    client.delete(due_key)
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    client.delete(f"{prefix}{settings.CELERY_TASK_DEFAULT_QUEUE}")
    messages = args.rate * args.seconds
    print(
        json.dumps(
            {
                "rate": args.rate,
                "conversations": args.conversations,
                "seconds": args.seconds,
                "cpu_us_per_message_added": round((with_push - baseline) / messages * 1e6, 2),
                "note_sent_us_per_call": round(per_call_us, 3),
                "redis_round_trips_per_s": round(flushes / args.seconds, 1),
                "jobs_per_s": round(jobs / args.seconds, 1),
                "load_average": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
