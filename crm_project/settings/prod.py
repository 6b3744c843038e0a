"""Production: refuses to start with development defaults."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403 - every base setting; production overrides and checks below
from .base import database_url_from_parts, env, env_bool, env_int, env_list

DEBUG = False

SECRET_KEY = env("SECRET_KEY")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("dev-insecure"):
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names this server answers to.")
if not env("DATABASE_URL") and not database_url_from_parts():
    raise ImproperlyConfigured("DATABASE_URL (or DB_HOST and DB_NAME) must point at the production PostgreSQL.")
if not env("REDIS_URL"):
    raise ImproperlyConfigured("REDIS_URL must point at the production Redis.")
if not env("EMAIL_URL"):
    # the development default prints password reset links (secrets) to the log
    raise ImproperlyConfigured("EMAIL_URL must point at an SMTP server (smtp://user:password@host:587/?tls=True).")

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
