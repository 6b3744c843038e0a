"""Production: refuses to start with development defaults."""

from django.core.exceptions import ImproperlyConfigured

from crm_project.embedded import database_url_from_parts

from .base import *  # noqa: F403 - every base setting; production overrides and checks below
from .base import EMAIL_BACKEND, env, env_bool, env_int, env_list

DEBUG = False


def _refuse_weak_secret(name: str, value: str) -> None:
    """Signing keys: at least 50 characters, never the development default (JWT_SECRET too: it signs
    every access and refresh token, a short one can be guessed offline from any token)."""
    if len(value) < 50 or value.startswith("dev-insecure"):
        raise ImproperlyConfigured(f"{name} must be set to a random value of at least 50 characters.")


SECRET_KEY = env("SECRET_KEY")
_refuse_weak_secret("SECRET_KEY", SECRET_KEY)
# JWT_SECRET defaults to SECRET_KEY (base.py); set on its own, it must be as strong.
_refuse_weak_secret("JWT_SECRET", env("JWT_SECRET") or SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names this server answers to.")
if not env("DATABASE_URL") and not database_url_from_parts():
    raise ImproperlyConfigured("DATABASE_URL (or DB_HOST and DB_NAME) must point at the production PostgreSQL.")
if not env("REDIS_URL"):
    raise ImproperlyConfigured("REDIS_URL must point at the production Redis.")
if not env("EMAIL_URL") or EMAIL_BACKEND != "django.core.mail.backends.smtp.EmailBackend":
    # console: and file: would write password reset codes (secrets) to the log or the disk; dummy: and
    # memory: would drop them: a user who forgot their password (or is locked out) could not get back in
    raise ImproperlyConfigured(
        "EMAIL_URL must point at an SMTP server (smtp://user:password@host:587/?tls=True, or submission://); "
        "console:, file:, memory: and dummy: deliver nothing."
    )

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# No SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from anyone. core.edge takes the
# scheme from it only when the request came through TRUSTED_PROXIES, and request.scheme follows.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Container and load-balancer probes call /health over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/?$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
