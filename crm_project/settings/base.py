"""Settings shared by every environment.

Every value comes from the environment (see `.env.example`) with a safe development
default; `prod.py` tightens what must not be left at its default.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_email_url
from django.core.exceptions import ImproperlyConfigured

from crm_project.settings.environment import BASE_DIR, env, env_bool, env_int, env_list

SECRET_KEY = env("SECRET_KEY", "dev-insecure-secret-key-change-me-0123456789abcdef")
# Previous keys, still accepted (not used to sign) while a rotation settles: docs/security.md
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
# Addresses or networks of the reverse proxies in front of the server (comma separated). Only a
# request arriving from one of them has its X-Forwarded-For / X-Forwarded-Proto believed
# (core/edge.py); default none: the client is whoever opened the connection.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
for _proxy in TRUSTED_PROXIES:
    ipaddress.ip_network(_proxy, strict=False)  # a typo stops the server at start-up, not at the first request

INSTALLED_APPS = [
    "daphne",
    "console.apps.ConsoleAdminConfig",  # django.contrib.admin, with the staff console as its site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.sites",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc files, served by the project
    "corsheaders",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.facebook",
    "core",
    "offices",
    "accounts",
    "leads",
    "appointments",
    "documents",
    "messaging",
    "notifications",
    "push_notifications",  # django-push-notifications: its FCM and APNs senders (devices.providers)
    "devices",
    "study",
    "students",
    "catalogue",
    "applications",
    "proposals",
    "followups",
    "django_countries",
    "reports",
    "onboarding",
    "privacy",
    "console",
    "demo",
]

MIDDLEWARE = [
    "core.metrics.RequestMetricsMiddleware",
    "corsheaders.middleware.CorsMiddleware",  # before anything that can answer (preflights, 404s)
    "core.compression.CompressionMiddleware",  # gzip for JSON over 1 kB, never for tokens (core/compression.py)
    "core.outages.DependencyErrorMiddleware",  # PostgreSQL or Redis down: 503 outside DRF too
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "console.middleware.OfficeTimezoneMiddleware",  # console pages in the office's time zone
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked sign-in into accounts.lockout's page
]

ROOT_URLCONF = "crm_project.urls"
ASGI_APPLICATION = "crm_project.asgi.application"
WSGI_APPLICATION = "crm_project.wsgi.application"
# Clients call paths without a trailing slash; routers accept both, so no redirects.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL and Redis (DATABASES, the REDIS_* settings, REDIS_NAMESPACE, CHANNEL_LAYERS, CACHES): datastores.py
from crm_project.settings.datastores import *  # noqa: E402, F403

# granian workers `python -m crm_project.serve` starts on one port (one per core: a process runs
# Python on one core at a time). Each keeps its own DB_POOL_MAX_SIZE connections.
WEB_CONCURRENCY = env_int(
    "WEB_CONCURRENCY", len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)
# HTTP requests one worker runs at once, each on its own thread (core/handlers.py); at most
# DB_POOL_MAX_SIZE. A few let one request wait on PostgreSQL while another runs; many only
# fight over the GIL (10 cost ~25% more CPU a request than 2-4 on the history page bench).
WEB_THREADS = env_int("WEB_THREADS", 4)


AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.lockout.LockoutBackend",  # first: a locked account or address is refused before any password check
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Sign-in lockout (django-axes; accounts/lockout.py): this many failed password sign-ins, through the
# console or the API, lock the account tried and the address they came from for LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: the account, and the address
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lockout ends on time however long someone keeps trying
AXES_HANDLER = "accounts.lockout.LoginFailures"
AXES_USERNAME_CALLABLE = "accounts.lockout.username"
AXES_CLIENT_IP_CALLABLE = "core.edge.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are not recorded (a row each); failures are
AXES_VERBOSE = False

# The first hashes new passwords; the others read stored ones. bcrypt reads the hashes of users
# imported from the original Node product (accounts/hashers.py): they are re-hashed at sign-in.
PASSWORD_HASHER = env("PASSWORD_HASHER", "pbkdf2")  # pbkdf2 | bcrypt
BCRYPT_ROUNDS = env_int("BCRYPT_ROUNDS", 12)  # work factor of bcrypt hashes (the original product's setting)
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "accounts.hashers.NodeBcryptPasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if PASSWORD_HASHER == "bcrypt":
    PASSWORD_HASHERS.insert(0, PASSWORD_HASHERS.pop(1))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# The console's one way of writing dates and times (day before month, 24-hour clock): console/formats/.
FORMAT_MODULE_PATH = ["console.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Development serves static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

STORAGE_BACKEND = env("STORAGE_BACKEND", "local")  # local | s3
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if STORAGE_BACKEND == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME", "crm-files"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env("AWS_S3_REGION_NAME") or None,
            "access_key": env("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env("AWS_SECRET_ACCESS_KEY") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env_int("AWS_QUERYSTRING_EXPIRE", 300),
            "file_overwrite": False,
            "signature_version": "s3v4",
        },
    }

SITE_ID = 1

# --- REST API: REST_FRAMEWORK and SPECTACULAR_SETTINGS in api.py --------------------
from crm_project.settings.api import REST_FRAMEWORK, SPECTACULAR_SETTINGS  # noqa: E402, F401

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # Every token carries a hash of the password hash, checked against the user row on each request
    # (core.authentication) and socket: a password change or reset ends every access token at once.
    "CHECK_REVOKE_TOKEN": True,
    "SIGNING_KEY": env("JWT_SECRET") or SECRET_KEY,  # empty (as in .env.example) is unset
    "ALGORITHM": "HS256",
}

# --- Social login (django-allauth) ---------------------------------------------------
SOCIALACCOUNT_PROVIDERS = {
    "google": {
        "APPS": [{"client_id": env("GOOGLE_CLIENT_ID"), "secret": env("GOOGLE_CLIENT_SECRET"), "key": ""}]
        if env("GOOGLE_CLIENT_ID")
        else [],
        "SCOPE": ["profile", "email"],
    },
    "facebook": {
        "APPS": [{"client_id": env("FACEBOOK_CLIENT_ID"), "secret": env("FACEBOOK_CLIENT_SECRET"), "key": ""}]
        if env("FACEBOOK_CLIENT_ID")
        else [],
        "SCOPE": ["email"],
    },
}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
# allauth serves social sign-in only: its HTML signup, password login, password reset and change
# pages are off (one path each: the API's auth/* endpoints). A first social sign-in signs a student
# up through accounts.services.student_signup (accounts/adapters.py).
SOCIALACCOUNT_ONLY = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_LOGIN_ON_GET = True
SOCIALACCOUNT_AUTO_SIGNUP = True
# Where an allauth sign-in without `next` lands (never /accounts/profile/, which does not exist):
# the hand-over of a single-use code to the web client. Signing out lands on the web client.
LOGIN_REDIRECT_URL = "auth-social-complete"

# --- Email (password reset) -------------------------------------------------------------
# smtp://user:password@host:587/?tls=True (or submission://, smtps://), console: (prints, the
# development default), dummy: (drops). Production refuses to start without it (prod.py).
EMAIL_URL = env("EMAIL_URL", "console:")
_email = dj_email_url.parse(EMAIL_URL)
if "EMAIL_BACKEND" not in _email:
    raise ImproperlyConfigured("EMAIL_URL must start with smtp://, submission://, smtps://, console:, file: or dummy:")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS, EMAIL_USE_SSL = _email["EMAIL_USE_TLS"], _email["EMAIL_USE_SSL"]
EMAIL_TIMEOUT = _email["EMAIL_TIMEOUT"] or 10  # seconds; a stuck SMTP server must not hold a request forever
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Consultancy CRM <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# How long a password reset link works (it also stops working once used: the password changed).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_MINUTES", 60) * 60

# --- Product settings (names of the original design) ----------------------------------
FRONTEND_URL = env("FRONTEND_URL", "http://localhost:3000")
ACCOUNT_LOGOUT_REDIRECT_URL = FRONTEND_URL  # allauth's sign-out page (social sessions)
ALLOWED_WS_ORIGINS = env_list("ALLOWED_WS_ORIGINS", FRONTEND_URL)
# Browser apps on these origins may call the API (django-cors-headers). Bearer tokens, not cookies:
# no credentials, so a page elsewhere can never ride a signed-in session.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", FRONTEND_URL)
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_PREFLIGHT_MAX_AGE = env_int("CORS_PREFLIGHT_MAX_AGE", 86400)  # seconds a browser caches a preflight
CORS_EXPOSE_HEADERS = ["Retry-After", "Content-Disposition"]
MESSAGE_MAX_LENGTH = env_int("MESSAGE_MAX_LENGTH", 10000)
MESSAGE_EDIT_TIME_LIMIT = env_int("MESSAGE_EDIT_TIME_LIMIT", 15 * 60 * 1000)  # milliseconds
MAX_CONVERSATION_PARTICIPANTS = env_int("MAX_CONVERSATION_PARTICIPANTS", 50)
AUTO_CREATE_CONVERSATIONS = env_bool("AUTO_CREATE_CONVERSATIONS", True)
SOCKET_MAX_CONNECTIONS_PER_USER = env_int("SOCKET_MAX_CONNECTIONS_PER_USER", 5)
SOCKET_PING_TIMEOUT = env_int("SOCKET_PING_TIMEOUT", 60000)  # milliseconds
MAX_FILE_SIZE = env_int("MAX_FILE_SIZE", 50 * 1024 * 1024)  # bytes
MAX_FILES_PER_MESSAGE = env_int("MAX_FILES_PER_MESSAGE", 10)
ALLOWED_FILE_TYPES = env_list(
    "ALLOWED_FILE_TYPES",
    "image/jpeg,image/png,image/gif,image/webp,application/pdf,text/plain,"
    "application/msword,application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.ms-excel,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
    "video/mp4,audio/mpeg",
)
RATE_LIMIT_MAX_REQUESTS = env_int("RATE_LIMIT_MAX_REQUESTS", 600)
# Django's own request body limits, kept a little above the biggest allowed upload.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)

# Logging (LOG_LEVEL, LOG_FORMAT, DEBUG_SQL, DEBUG_SOCKET, LOGGING): logs.py
from crm_project.settings.logs import *  # noqa: E402, F403

# --- Messaging settings (messaging app) ---------------------------------------------------
# Text search configuration of the message search vector. It is baked into a generated
# column: changing it needs a migration that rebuilds the column (see docs/messaging.md).
MESSAGE_SEARCH_CONFIG = "english"
# The original product's switch: false answers every search with 404 `search_disabled`.
MESSAGE_SEARCH_ENABLED = env_bool("MESSAGE_SEARCH_ENABLED", True)
PROFANITY_MODE = env("PROFANITY_MODE", "mask")  # mask | reject | off
PROFANITY_WORDS = env_list("PROFANITY_WORDS", "fuck,shit,bitch,bastard,asshole,cunt,dick,wanker")
# Candidates ranked per search: bounds the work a very common word can cause.
MESSAGE_SEARCH_MAX_CANDIDATES = env_int("MESSAGE_SEARCH_MAX_CANDIDATES", 500)
# Deleted messages keep their content for audit this long; then purge_deleted_messages clears it.
MESSAGE_DELETED_RETENTION_DAYS = env_int("MESSAGE_DELETED_RETENTION_DAYS", 90)

# --- Real-time settings (socket consumer) ---------------------------------------------------
SOCKET_MAX_FRAME_BYTES = env_int("SOCKET_MAX_FRAME_BYTES", 64 * 1024)
SOCKET_RATE_LIMIT = env_int("SOCKET_RATE_LIMIT", 30)  # frames per user per second, all sockets
TYPING_TIMEOUT_MS = env_int("TYPING_TIMEOUT_MS", 5000)
SOCKET_DELIVERY_BATCH_MS = env_int("SOCKET_DELIVERY_BATCH_MS", 1000)
# A message that overtook an earlier one waits this long for it before the gap is read from the
# database. With several processes an overtaking is the normal case whenever one is behind; a read
# costs the behind process more still (200 ms: two workers at 600 sends/s delivered at p90 5.8 s; 1,000 ms:
# p90 155 ms). Only an event really lost (Redis away) waits the whole time.
SOCKET_GAP_WAIT_MS = env_int("SOCKET_GAP_WAIT_MS", 1000)

# --- CRM settings (leads, appointments, notifications) ---------------------------------------
APPOINTMENT_SLOT_MINUTES = env_int("APPOINTMENT_SLOT_MINUTES", 30)
APPOINTMENT_REMINDER_MINUTES = env_int("APPOINTMENT_REMINDER_MINUTES", 60)

# --- Files and documents settings ----------------------------------------------------------
# Images with more pixels are refused before decoding (decompression-bomb guard).
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 40_000_000)
# Dotted path to a callable `scan(file)` that raises core.errors.ApplicationError to refuse a
# file (e.g. a clamd client); empty = no scanning. See docs/files.md.
FILE_SCAN_BACKEND = env("FILE_SCAN_BACKEND", "")
AWS_QUERYSTRING_EXPIRE = env_int("AWS_QUERYSTRING_EXPIRE", 300)

# --- Backups and data protection (docs/operations.md, docs/data-protection.md) ----------------
# Folder of pg_dump / pg_restore of the database server's major version; empty = found by itself
# (the embedded server's own, /usr/lib/postgresql/<major>/bin, the PATH).
BACKUP_PG_BIN_DIR = env("BACKUP_PG_BIN_DIR", "")
# Where the nightly backup task writes its archives, and how many it keeps there.
BACKUP_DIR = Path(env("BACKUP_DIR", str(BASE_DIR / "var" / "backups")))
BACKUP_KEEP = env_int("BACKUP_KEEP", 7)
# A person's data export up to this many bytes (files and messages, estimated) is answered at once; a
# larger one is built in the background and fetched from a link valid PERSONAL_EXPORT_LINK_MINUTES.
PERSONAL_EXPORT_INLINE_MAX_BYTES = env_int("PERSONAL_EXPORT_INLINE_MAX_BYTES", 10 * 1024 * 1024)
PERSONAL_EXPORT_LINK_MINUTES = env_int("PERSONAL_EXPORT_LINK_MINUTES", 15)
PERSONAL_EXPORT_KEEP_HOURS = env_int("PERSONAL_EXPORT_KEEP_HOURS", 24)
# Retention (apply_retention, daily): 0 keeps forever where noted in docs/data-protection.md.
LEAD_LOST_RETENTION_DAYS = env_int("LEAD_LOST_RETENTION_DAYS", 730)
NOTIFICATION_READ_RETENTION_DAYS = env_int("NOTIFICATION_READ_RETENTION_DAYS", 180)
EXPIRED_CREDENTIALS_RETENTION_DAYS = env_int("EXPIRED_CREDENTIALS_RETENTION_DAYS", 7)
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 6 * 365)

# --- Reports and operations settings --------------------------------------------------------
# Bearer token for /metrics (besides staff sign-in); empty = staff only.
METRICS_TOKEN = env("METRICS_TOKEN", "")


# --- Background jobs (CELERY_*): jobs.py -------------------------------------------------------------
from crm_project.settings.jobs import *  # noqa: E402, F403

# --- Reaching people who are offline, push and email (PUSH_*, WEBPUSH_*, FCM_*, APNS_*): notifications.py ---
from crm_project.settings.notifications import *  # noqa: E402, F403
