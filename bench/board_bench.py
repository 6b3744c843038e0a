"""The console's application board as the seed leaves it: p50/p95 of its server render for a manager (and a
consultant) of one office, through the real view in-process (the request path minus the socket), with this
process's CPU time (what the neighbours' load moves least) and the templates' render time apart. Prints
figures; not a test.

Usage: python bench/board_bench.py [--runs 30] [--office-email manager.london@demo.example.com]
Against a seeded database (`manage.py seed --size medium`): it reads, never writes (bar the session).
For a before/after in the same minute, run it from a checkout of the "before" commit too, e.g.
  git archive HEAD~1 | tar -x -C /tmp/before && cp -r static/ /tmp/before/  # (then run both)
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")
os.environ.setdefault("RATE_LIMIT_MAX_REQUESTS", "100000000")

import django  # noqa: E402

django.setup()

from django.db.models import Count  # noqa: E402
from django.template import base  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from applications.models import Application  # noqa: E402

URL = "/admin/applications/application/board/"


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class RenderClock:
    """Adds up the time Django's template engine spends rendering (django.template.base.Template.render)."""

    def __init__(self):
        self.base, self.spent = base, 0.0
        self.original = base.Template.render
        clock = self

        def timed(template, context):
            if getattr(clock, "depth", 0):
                return clock.original(template, context)
            clock.depth = 1
            started = time.perf_counter()
            try:
                return clock.original(template, context)
            finally:
                clock.spent += time.perf_counter() - started
                clock.depth = 0

        base.Template.render = timed

    def take(self) -> float:
        spent, self.spent = self.spent, 0.0
        return spent * 1000


def measure(label, client, runs, clock):
    for _ in range(3):  # warm
        assert client.get(URL).status_code == 200
    clock.take()
    total, cpu, render, size = [], [], [], 0
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(URL)
        total.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        render.append(clock.take())
        assert response.status_code == 200, response.content[:300]
        size = len(response.content)
    print(
        f"{label:<34} p50 {pct(total, 50):6.1f} ms   p95 {pct(total, 95):6.1f} ms   "
        f"(CPU p50 {pct(cpu, 50):5.1f} / p95 {pct(cpu, 95):5.1f} ms; template p50 {pct(render, 50):5.1f} ms; "
        f"{size // 1024} KiB; n={runs})"
    )
    return pct(total, 50), pct(total, 95)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--office-email", default="manager.london@demo.example.com")
    args = parser.parse_args()
    manager = User.objects.get(email=args.office_email)
    busiest = (  # the consultant with the most applications of the office
        Application.objects.filter(office=manager.office, consultant__role=Role.CONSULTANT)
        .values("consultant")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    consultant = User.objects.get(pk=busiest["consultant"])
    print(f"{ROOT}: {Application.objects.filter(office=manager.office).count()} applications in {manager.office}")
    clock = RenderClock()
    for who, user in (("manager", manager), ("consultant", consultant)):
        client = Client()
        client.force_login(user)
        measure(f"board, {who}", client, args.runs, clock)


if __name__ == "__main__":
    main()
