"""Production settings refuse development defaults and pass Django's deployment checklist."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crm_project.settings.base import redis_namespace

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "crm_project.settings.prod",
    "SECRET_KEY": "k" * 20 + "q7Yh2Lr9Wm4Zp0Xc8Vb6Nn1Tt3Ss5Dd",
    "ALLOWED_HOSTS": "crm.example.com",
    "DATABASE_URL": "postgres://crm@db.example.com:5432/crm",
    "REDIS_URL": "redis://redis.example.com:6379/0",
    "EMAIL_URL": "smtp://crm:secret@smtp.example.com:587/?tls=True",
}


def manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in PROD_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"])
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_the_development_secret():
    result = manage("check", env={**PROD_ENV, "SECRET_KEY": "dev-insecure-secret-key-change-me-0123456789abcdef"})
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_redirects_plain_http_except_the_health_probe():
    probe = (
        "from django.test import Client; c = Client(HTTP_HOST='crm.example.com');"
        "print(c.get('/api/v1/auth/me').status_code, c.get('/health').status_code)"
    )
    # Real servers here, so the probe's answer does not depend on a network that does not exist.
    env = {**PROD_ENV, "DATABASE_URL": os.environ["DATABASE_URL"], "REDIS_URL": os.environ["REDIS_URL"]}
    result = manage("shell", "-c", probe, env=env)
    assert result.returncode == 0, result.stderr
    redirected, health = result.stdout.split()[-2:]
    assert redirected == "301" and health == "200"


def test_the_redis_namespace_is_the_database_name_and_the_redis_database_number():
    assert redis_namespace("crm", "redis://127.0.0.1:6379/2") == "crm.crm.2"
    assert redis_namespace("crm", "redis://cache.internal:6379") == "crm.crm.0"
    assert redis_namespace("staging", "unix:///var/run/redis.sock?db=3") == "crm.staging.3"  # the embedded Redis
    assert redis_namespace("crm", "unix:///var/run/redis.sock") == "crm.crm.0"
