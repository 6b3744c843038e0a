"""Tests: the real PostgreSQL and Redis, a fast password hasher, files in a temp folder."""

import os
import tempfile

from crm_project.embedded import ensure_services

ensure_services()

from .base import *  # noqa: E402,F401,F403
from .base import CHANNEL_LAYERS, env  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A fresh folder per run; the live servers a test starts share it (core/tests/live_server.server_env
# passes it down: test plumbing, not a setting).
MEDIA_ROOT = os.environ.get("CRM_TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="crm-test-media-")
# Each test run gets its own Redis key space so parallel runs cannot see each other.
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = env("CHANNELS_PREFIX", "crm-test")
LOG_LEVEL = "WARNING"
