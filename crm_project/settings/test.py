"""Tests: the real PostgreSQL and Redis, a fast password hasher, files in a temp folder."""

import tempfile

from crm_project.embedded import ensure_services

ensure_services()

from .base import *  # noqa: E402,F401,F403
from .base import CHANNEL_LAYERS, env  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="crm-test-media-")
# Each test run gets its own Redis key space so parallel runs cannot see each other.
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = env("CHANNELS_PREFIX", "crm-test")
LOG_LEVEL = "WARNING"
