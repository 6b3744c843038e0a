"""API conformance: Schemathesis against a live server, once per role.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python clients/conformance.py

The database named by DATABASE_URL is emptied and seeded (use one of its own: CI uses
`crm_conformance`). The production server (one granian worker) serves it on a free port; for each
role (super_admin, manager, consultant, receptionist, student) a seeded user logs in and Schemathesis
generates requests from `/api/schema` with that user's token, checking every response with the checks
below. Exits non-zero on any failure. Operations left out, and why: docs/api-conformance.md.

Environment: CONFORMANCE_MAX_EXAMPLES (per operation and phase, default 5), CONFORMANCE_SEED,
CONFORMANCE_ROLES (comma separated, default all five).
The OpenAPI document the run used is written to `artifacts/openapi.json`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import django
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The one who may delete most goes last.
ROLES = os.environ.get("CONFORMANCE_ROLES", "student,receptionist,consultant,manager,super_admin").split(",")
COVERAGE_ROLE = "super_admin"
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
    "ignored_auth",
    "use_after_free",
]
# Operations no generated request may call, each with its reason (also in docs/api-conformance.md).
EXCLUDED = {
    # Changing the role's own password or signing it out revokes the token the rest of the run uses.
    "POST /api/v1/auth/password": "revokes every token of the user running the checks",
    "POST /api/v1/auth/logout": "blacklists refresh tokens; tested in accounts/tests",
    # Deactivating the running user closes their session; deactivation is tested in accounts/tests.
    "POST /api/v1/users/{id}/deactivate": "would deactivate the user running the checks",
    "DELETE /api/v1/users/{id}": "would deactivate the user running the checks (DELETE deactivates)",
    # Redirects to Google / Facebook: not an API response (tested in accounts/tests/test_social_login.py).
    "GET /api/v1/auth/{provider}": "a redirect to an external sign-in page, not an API response",
}
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "clients.conformance_settings",
    "DEBUG": "false",
    # Schemathesis sends thousands of requests a minute: the limits would answer most of them 429.
    "RATE_LIMIT_MAX_REQUESTS": "1000000",
    "RATE_LIMIT_ANON_REQUESTS": "1000000",
    "LOGIN_RATE_PER_ACCOUNT": "1000000/min",
    "LOGIN_RATE_PER_ADDRESS": "1000000/min",
    "LOGIN_FAILURE_LIMIT": "1000000",  # generated sign-ins with wrong passwords would lock the accounts out
    "JWT_ACCESS_MINUTES": "240",
    "LOG_LEVEL": "ERROR",
    "WEB_CONCURRENCY": "1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_data() -> dict[str, str]:
    """An empty database, migrated and seeded; returns one login email per role."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SERVER_ENV["DJANGO_SETTINGS_MODULE"]
    os.environ.setdefault("TQDM_DISABLE", "1")
    django.setup()
    from accounts.models import Role, User  # noqa: PLC0415 - models load once Django is set up, just above

    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    call_command("seed", size="small", offices=2, verbosity=0)
    call_command("ensure_dev_admin", email="conformance.admin@example.com", password="demo-Pass-2024", verbosity=0)
    emails: dict[str, str] = {Role.SUPER_ADMIN: "conformance.admin@example.com"}
    for role in (Role.MANAGER, Role.CONSULTANT, Role.RECEPTIONIST, Role.STUDENT):
        user = User.objects.filter(role=role, is_active=True, office__name="London").order_by("id").first()
        assert user is not None, f"the seed has a {role} in London"
        emails[role] = user.email
    assert set(emails) == set(Role.values)
    return emails


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer {url}") from exc
            time.sleep(0.3)


def login(base: str, email: str) -> str:
    request = urllib.request.Request(
        f"{base}/api/v1/auth/login",
        method="POST",
        data=json.dumps({"email": email, "password": "demo-Pass-2024"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    return json.loads(urllib.request.urlopen(request, timeout=10).read())["access"]


def run_role(base: str, role: str, token: str, report_dir: Path, schema: dict) -> tuple[int, int, str]:
    """Schemathesis for one role; returns (cases, failures, output)."""
    report = report_dir / f"{role}.json"
    command = [
        # the schema the server served (saved once, not generated again for every role)
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        str(ROOT / "artifacts" / "openapi.json"),
        "--url",
        base,
        "--checks",
        ",".join(CHECKS),
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        os.environ.get("CONFORMANCE_MAX_EXAMPLES", "5"),
        # The coverage phase (every boundary and negative case, ~3,000 requests) runs once, as the role
        # that reaches every operation; the other roles get the examples, fuzzing and stateful phases.
        "--phases",
        "examples,coverage,fuzzing,stateful" if role == COVERAGE_ROLE else "examples,fuzzing,stateful",
        "--seed",
        os.environ.get("CONFORMANCE_SEED", "13"),
        # One worker: with two, CPython 3.11's ast.parse (Hypothesis describes its strategies with it)
        # sometimes failed with "AST constructor recursion depth mismatch" in one of the threads.
        "--workers",
        "1",
        "--no-shrink",
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--output-sanitize",
        "true",
        "--warnings",
        "off",
    ]
    command += _exclusions(schema)
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, cwd=report_dir
    )  # its cache folder goes there, not into the checkout
    (ROOT / "artifacts" / f"conformance-{role}.txt").write_text(done.stdout + done.stderr)
    cases, failures = _totals(report)
    if done.returncode and not failures:
        failures = -1  # schemathesis itself failed (schema error, crash): reported as such
    return cases, failures, done.stdout + done.stderr


def _exclusions(schema: dict) -> list[str]:
    args = []
    for operation in EXCLUDED:
        method, path = operation.split(" ", 1)
        definition = schema["paths"].get(path, {}).get(method.lower())
        if definition is None:
            raise SystemExit(f"{operation} is listed as excluded but is not in the schema: update EXCLUDED")
        args += ["--exclude-operation-id", definition["operationId"]]
    return args


def _totals(report: Path) -> tuple[int, int]:
    if not report.exists():
        return 0, 0
    cases = json.loads(report.read_text())["test_cases"]
    return cases["generated"], cases["with_failures"] + cases["errored"]


def main() -> int:
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        print("Set DATABASE_URL (a database of its own: it is emptied) and REDIS_URL.", file=sys.stderr)
        return 2
    started = time.monotonic()
    emails = prepare_data()
    port = free_port()
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    with open(artifacts / "conformance-server.log", "w") as log:  # the server writes to its own copy
        server = subprocess.Popen(
            # the production server (granian), one worker
            [sys.executable, "-m", "crm_project.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            cwd=ROOT,
            env={**os.environ, **SERVER_ENV},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    results = {}
    try:
        wait_for(f"{base}/health")
        asked = urllib.request.Request(f"{base}/api/schema", headers={"Accept": "application/vnd.oai.openapi+json"})
        schema = json.loads(urllib.request.urlopen(asked, timeout=30).read())
        (artifacts / "openapi.json").write_text(json.dumps(schema, indent=1))
        with tempfile.TemporaryDirectory(dir=os.environ.get("CONFORMANCE_REPORTS")) as reports:
            for role in ROLES:
                role_started = time.monotonic()
                cases, failures, output = run_role(base, role, login(base, emails[role]), Path(reports), schema)
                results[role] = (cases, failures)
                took = time.monotonic() - role_started
                print(f"{role}: {cases} cases, {failures} failures ({took:.0f} s)", flush=True)
                if failures:
                    print(output[-20000:])
    finally:
        server.terminate()
        server.wait(timeout=15)
    total_cases = sum(c for c, _ in results.values())
    total_failures = sum(f for _, f in results.values())
    print(
        f"schemathesis: {total_cases} cases, {total_failures} failures over {len(results)} roles "
        f"in {time.monotonic() - started:.0f} s"
    )
    return 1 if total_failures or len(results) != len(ROLES) else 0


if __name__ == "__main__":
    sys.exit(main())
