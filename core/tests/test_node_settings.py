"""The original Node product's database settings: DB_HOST / DB_PORT / DB_NAME / DB_USER / DB_PASSWORD
are used when DATABASE_URL is unset (and then no private PostgreSQL starts)."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from core.tests.test_settings import PROD_ENV, ROOT, manage
from crm_project.embedded import database_url_from_parts


def test_the_parts_make_a_url():
    parts = {
        "DB_HOST": "db.example.com",
        "DB_PORT": "6543",
        "DB_NAME": "crm prod",
        "DB_USER": "app",
        "DB_PASSWORD": "p@ss/w:rd",
    }
    assert database_url_from_parts(parts) == "postgres://app:p%40ss%2Fw%3Ard@db.example.com:6543/crm%20prod"
    assert database_url_from_parts({"DB_NAME": "crm"}) == "postgres://postgres@localhost:5432/crm"
    assert database_url_from_parts({"DB_HOST": "::1"}) == "postgres://postgres@[::1]:5432/crm"
    assert database_url_from_parts({"DB_USER": "app", "DB_PASSWORD": "x"}) is None  # no host or name: not set


@pytest.mark.django_db
def test_db_settings_reach_the_real_database_without_starting_a_private_one(tmp_path):
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="crm_project.settings.dev",
        CRM_DATA_DIR=str(tmp_path / "var"),
        DB_HOST=db["HOST"] or db["OPTIONS"].get("host") or "127.0.0.1",
        DB_PORT=str(db["PORT"] or 5432),
        DB_NAME=db["NAME"],
        DB_USER=db["USER"],
        DB_PASSWORD=db["PASSWORD"] or "",
    )
    if env["DB_HOST"].startswith("/"):
        pytest.skip("the suite runs on the embedded PostgreSQL's unix socket")
    probe = "from django.db import connection; connection.ensure_connection(); print(connection.settings_dict['NAME'])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == db["NAME"]
    assert not (tmp_path / "var" / "pgdata").exists()  # DATABASE_URL unset, but no private server


def test_production_accepts_the_db_settings_instead_of_database_url():
    env = {k: v for k, v in PROD_ENV.items() if k != "DATABASE_URL"}
    assert manage("check", env=env).returncode != 0
    result = manage("check", env={**env, "DB_HOST": "db.example.com", "DB_NAME": "crm", "DB_USER": "crm"})
    assert result.returncode == 0, result.stderr
