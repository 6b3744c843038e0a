"""Settings of the server clients/conformance.py checks: development settings with a fast password
hasher (every generated login and password change would otherwise spend ~0.3 s hashing)."""

from crm_project.settings.dev import *  # noqa: F403 - the development settings, one hasher changed

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
