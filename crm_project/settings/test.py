"""Tests: the real PostgreSQL and Redis, a fast password hasher, files in a temp folder."""

import os
import tempfile
from pathlib import Path

from core.tests.clock import travel_from_environment
from crm_project.embedded import ensure_services

# CRM_TEST_CLOCK: the whole run, and every process it starts with these settings, on a travelled clock
# (core/tests/clock.py; test plumbing like CRM_TEST_MEDIA_ROOT, not a setting).
travel_from_environment()
ensure_services()

from .base import *  # noqa: E402, F403 - every base setting, read once ensure_services() set the URLs
from .base import (  # noqa: E402
    CACHES,
    CELERY_BROKER_TRANSPORT_OPTIONS,
    CHANNEL_LAYERS,
    DATABASES,
    REDIS_URL,
    env,
    redis_namespace,
)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A fresh folder per run; the live servers a test starts share it (core/tests/live_server.server_env
# passes it down: test plumbing, not a setting).
MEDIA_ROOT = Path(os.environ.get("CRM_TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="crm-test-media-"))
# The namespace of the database the tests really use (pytest-django's "test_" copy, one per pytest-xdist
# worker: test_<name>_gw0, ...): runs on other databases, a dev server on this one and the other workers
# of the run never share keys or events with the tests (conftest's clean-up deletes this namespace only).
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_test_database = f"test_{DATABASES['default']['NAME']}" + (f"_{_worker}" if _worker else "")
REDIS_NAMESPACE = env("REDIS_NAMESPACE") or redis_namespace(_test_database, REDIS_URL)
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = CACHES["default"]["KEY_PREFIX"] = REDIS_NAMESPACE
# The tests' jobs too (their worker, celery's test worker, runs against the real Redis: notifications/tests).
CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = f"{REDIS_NAMESPACE}:jobs:"
CELERY_CONTROL_EXCHANGE = f"{REDIS_NAMESPACE}.celery"
CELERY_EVENT_EXCHANGE = f"{REDIS_NAMESPACE}.celeryev"
LOG_LEVEL = "WARNING"
# WhiteNoise looks a static file up when it is asked for (as under DEBUG), instead of listing every file of
# the apps (~460, ~90 ms) each time a middleware chain is built: every test client builds one.
WHITENOISE_AUTOREFRESH = True
# The tests' Celery worker (a thread, devices/tests/standins.running_worker) waits on Redis at most this
# long per poll, so stopping it after each test takes 0.1 s instead of kombu's 1 s.
CELERY_BROKER_TRANSPORT_OPTIONS["polling_interval"] = 0.1
# A commit does not wait for the disk: a crashed test database is thrown away anyway.
DATABASES["default"]["OPTIONS"]["options"] = "-c synchronous_commit=off"
# A socket reads an event that never came back from the database after 200 ms, not production's 1 s
# (messaging/socket/outgoing.py): the recovery tests wait for it.
SOCKET_GAP_WAIT_MS = 200
