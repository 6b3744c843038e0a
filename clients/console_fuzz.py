"""Console fuzz: every GET page of the staff console with hostile query values, once per staff role,
against a live server. Any 5xx (or a page that does not answer) fails the run.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python clients/console_fuzz.py

Like clients/conformance.py (whose seeding and server settings it shares), the database named by
DATABASE_URL is emptied and seeded: give it one of its own (CI: `crm_conformance`, after that run).

The pages are found, not listed: every named URL of the admin site and the console's own pages
(reports, monitor), object pages filled with an id of a seeded object. Each page gets:
- the issue's cases, for every role: `?status__exact=%00` and `?start__year=<20 digits>` on list
  pages, a report range past either end of the calendar, a calendar feed offset of +99:00;
- every query parameter a console page reads (office, consultant, lead, start, end, date_from,
  date_to, rows, kind, after, inline) and the list pages' own (search, order, page, each filter and
  date drill-down), each with hostile values: the roles share the values out between them, so every
  (page, parameter, value) is sent once per run (CONSOLE_FUZZ_VALUES: values per parameter and role,
  default all of them / number of roles).
The allauth pages of an unconfigured provider are asked anonymously. Output: artifacts/console-fuzz.txt.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clients.conformance import SERVER_ENV, free_port, prepare_data, wait_for  # noqa: E402 - after the path

STAFF_ROLES = ["receptionist", "consultant", "manager", "super_admin"]
HUGE = "99999999999999999999"
HOSTILE = [
    "\x00",
    HUGE,
    "-1",
    "0",
    "1e999",
    "abc",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "2026-01-01T00:00:00+99:00",
    "0001-01-01",
    "9999-12-31",
    "2026-13-45",
    "%",
    "a" * 3000,
    "[]",
    "../../etc/passwd",
]
# What the console's own pages read from the query string (grep request.GET in */admin_views.py,
# offices/console.py), and what every Django list page reads.
PAGE_PARAMETERS = ["office", "consultant", "lead", "start", "end", "date_from", "date_to", "rows", "kind", "after"]
PAGE_PARAMETERS += ["inline", "q", "o", "p", "all", "_to_field", "_popup", "_changelist_filters", "term"]
# An object's pages (add, change, delete, history) read only these from the query string.
OBJECT_PAGES = ("_add", "_change", "_delete", "_history")
OBJECT_PAGE_PARAMETERS = ["_changelist_filters", "_popup", "_to_field"]
# Never asked: they end the session the run uses, or are not pages.
SKIPPED_NAMES = {"logout", "console-token", "jsi18n", "password_change_done"}


def console_pages() -> list[tuple[str, dict]]:
    """(URL, the list page's own filter parameters) for every GET page of the console."""
    from django.contrib import admin  # noqa: PLC0415 - Django is set up by prepare_data() first
    from django.urls import NoReverseMatch, get_resolver, reverse  # noqa: PLC0415 - as above

    from messaging.models import Conversation  # noqa: PLC0415 - as above

    models = {f"{m._meta.app_label}_{m._meta.model_name}": (m, a) for m, a in admin.site._registry.items()}
    first_conversation = Conversation.objects.order_by("id").values_list("id", flat=True).first()
    names: set[str] = set()

    def collect(patterns, prefix: str) -> None:
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):  # an include: the model admins' URLs
                if not prefix:
                    continue  # (outside the admin site: only the console's own named pages below)
                collect(pattern.url_patterns, prefix)
            elif pattern.name and (prefix or pattern.name.startswith("admin-")):
                names.add(prefix + pattern.name)

    collect(admin.site.get_urls(), "admin:")
    collect(get_resolver().url_patterns, "")
    pages: list[tuple[str, dict]] = []
    for name in sorted(names):
        short = name.removeprefix("admin:")
        if short in SKIPPED_NAMES:
            continue
        model_key = next((key for key in models if short.startswith(key + "_")), None)
        model, model_admin = models.get(model_key, (None, None)) if model_key else (None, None)
        kwargs: dict = {}
        try:
            url = reverse(name)
        except NoReverseMatch:
            first = model._default_manager.order_by("pk").values_list("pk", flat=True).first() if model else None
            for key in ("object_id", "lead_id", "document_id", "conversation_id", "app_label"):
                kwargs = {key: {"conversation_id": first_conversation, "app_label": "leads"}.get(key, first)}
                try:
                    url = reverse(name, kwargs=kwargs)
                    break
                except NoReverseMatch:
                    continue
            else:
                continue  # a page needing what no seeded object gives (e.g. content type redirects)
        if "/None/" in url:
            continue  # no seeded object of this model (its pages answer 404 whatever the query)
        if short.endswith(OBJECT_PAGES):
            parameters = dict.fromkeys(OBJECT_PAGE_PARAMETERS)  # what Django's object pages read
        else:
            parameters = dict.fromkeys(PAGE_PARAMETERS)
            if short.endswith("_changelist") and model:
                parameters.update(_list_filters(model, model_admin))
        pages.append((url, parameters))
    return pages


def _list_filters(model, model_admin) -> dict:
    """A list page's own query parameters: each list filter's lookup and the date drill-down."""
    from django.db import models as fields  # noqa: PLC0415 - Django is set up by now

    parameters: dict = {}
    for entry in model_admin.list_filter:
        name = entry if isinstance(entry, str) else entry[0] if isinstance(entry, tuple | list) else None
        if not isinstance(name, str):
            continue
        parameters[f"{name}__exact"] = None
        try:
            field = model._meta.get_field(name)
        except Exception:
            continue
        if isinstance(field, fields.ForeignKey):
            parameters[f"{name}__id__exact"] = None
        if isinstance(field, fields.DateField | fields.DateTimeField):
            parameters.update({f"{name}__gte": None, f"{name}__lt": None, f"{name}__year": None})
    if model_admin.date_hierarchy:
        name = model_admin.date_hierarchy
        parameters.update({f"{name}__year": None, f"{name}__month": None, f"{name}__day": None})
    return parameters


ISSUE_CASES = [
    "status__exact=%00",
    f"start__year={HUGE}",
    "date_to=9999-12-31",
    "date_to=0001-01-01",
    "start=2026-01-01T00:00:00%2B99:00&end=2026-01-08T00:00:00%2B00:00",
]


def sign_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/admin/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "the console's sign-in form"
    answer = session.post(
        f"{base}/admin/login/?next=/admin/",
        data={"username": email, "password": "demo-Pass-2024", "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": f"{base}/admin/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, f"{email} could not sign in to the console ({answer.status_code})"
    return session


def queries_for(role_index: int, parameters: dict, per_role: int) -> list[str]:
    """The issue's cases, then this role's share of (parameter, hostile value) pairs."""
    queries = list(ISSUE_CASES)
    for name in parameters:
        for n in range(per_role):
            value = HOSTILE[(role_index * per_role + n) % len(HOSTILE)]
            queries.append(f"{quote(name)}={quote(value, safe='')}")
    return queries


def fuzz_role(base: str, role_index: int, email: str, pages, per_role: int) -> tuple[int, list[str]]:
    session = sign_in(base, email)
    targets = [(url, query) for url, parameters in pages for query in queries_for(role_index, parameters, per_role)]

    def ask(target: tuple[str, str]) -> str | None:
        url, query = target
        try:
            status: int | str = session.get(f"{base}{url}?{query}", allow_redirects=False, timeout=60).status_code
        except requests.RequestException as exc:
            status = f"no answer ({type(exc).__name__})"
        if isinstance(status, int) and status < 500:
            return None
        return f"{STAFF_ROLES[role_index]} GET {url}?{query[:200]} -> {status}"

    with ThreadPoolExecutor(max_workers=int(os.environ.get("CONSOLE_FUZZ_THREADS", "3"))) as pool:
        failures = [failure for failure in pool.map(ask, targets) if failure]
    return len(targets), failures


def fuzz_social_pages(base: str) -> tuple[int, list[str]]:
    failures, sent = [], 0
    for provider in ("google", "facebook"):
        for page in ("login/", "login/callback/", "login/callback/?code=x&state=%00"):
            answer = requests.get(f"{base}/accounts/{provider}/{page}", allow_redirects=False, timeout=30)
            sent += 1
            if answer.status_code >= 500:
                failures.append(f"anonymous GET /accounts/{provider}/{page} -> {answer.status_code}")
    return sent, failures


def main() -> int:
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        print("Set DATABASE_URL (a database of its own: it is emptied) and REDIS_URL.", file=sys.stderr)
        return 2
    started = time.monotonic()
    emails = prepare_data()
    pages = console_pages()
    per_role = int(os.environ.get("CONSOLE_FUZZ_VALUES") or -(-len(HOSTILE) // len(STAFF_ROLES)))
    port = free_port()
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    env = {**os.environ, **SERVER_ENV, "GOOGLE_CLIENT_ID": "", "FACEBOOK_CLIENT_ID": ""}
    with open(artifacts / "console-fuzz-server.log", "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "crm_project.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    lines: list[str] = []
    failures: list[str] = []
    total = 0
    try:
        wait_for(f"{base}/health")
        sent, failed = fuzz_social_pages(base)
        total, failures = total + sent, failures + failed
        for index, role in enumerate(STAFF_ROLES):
            role_started = time.monotonic()
            sent, failed = fuzz_role(base, index, emails[role], pages, per_role)
            total, failures = total + sent, failures + failed
            lines.append(f"{role}: {sent} requests, {len(failed)} 5xx ({time.monotonic() - role_started:.0f} s)")
            print(lines[-1], flush=True)
    finally:
        server.terminate()
        server.wait(timeout=15)
    summary = (
        f"console fuzz: {len(pages)} pages, {total} requests, {len(failures)} 5xx in {time.monotonic() - started:.0f} s"
    )
    (artifacts / "console-fuzz.txt").write_text("\n".join([*lines, *failures, summary]) + "\n")
    for failure in failures[:200]:
        print(failure)
    print(summary)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
