"""Settings shared by every environment.

Every value comes from the environment (see `.env.example`) with a safe development
default; `prod.py` tightens what must not be left at its default.
"""

import ipaddress
import os
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured

from crm_project.embedded import database_url_from_parts

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


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

# DATABASE_URL / REDIS_URL unset: crm_project.embedded starts private servers first
# (see manage.py and asgi.py), and fills these two variables in.
# Without DATABASE_URL, the original product's DB_HOST / DB_PORT / DB_NAME / DB_USER / DB_PASSWORD.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or database_url_from_parts() or "postgres://postgres@127.0.0.1:5432/crm"
    )
}
# A connection pool (psycopg_pool), not persistent connections: under ASGI each request's and each
# socket handler's sync code may run on another thread, and opening a PostgreSQL connection per
# call costs more than the query. Every process keeps at most DB_POOL_MAX_SIZE connections.
if env_int("DB_POOL_MAX_SIZE", 10) > 0:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 1),
        "max_size": env_int("DB_POOL_MAX_SIZE", 10),
        "timeout": env_int("DB_POOL_TIMEOUT", 10),
    }
# (The statements core.db prepares keep one plan: it sets plan_cache_mode on the connections that prepare.)
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
# Seconds a new connection may take; an unreachable server must not hold a request (core/outages.py).
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 3)
_db_options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
# Django's backend, failing fast while PostgreSQL is down and rebuilding the pool when it is back.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "core.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# granian workers `python -m crm_project.serve` starts on one port (one per core: a process runs
# Python on one core at a time). Each keeps its own DB_POOL_MAX_SIZE connections.
WEB_CONCURRENCY = env_int(
    "WEB_CONCURRENCY", len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)
# HTTP requests one worker runs at once, each on its own thread (core/handlers.py); at most
# DB_POOL_MAX_SIZE. A few let one request wait on PostgreSQL while another runs; many only
# fight over the GIL (10 cost ~25% more CPU a request than 2-4 on the history page bench).
WEB_THREADS = env_int("WEB_THREADS", 4)

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
# Seconds to connect to Redis or wait for its answer (cache, throttles, event publishes, socket registry).
REDIS_TIMEOUT = float(env("REDIS_TIMEOUT", "2"))
# Most Redis connections one server process holds, split between its pools (core/redis_pools.py;
# docs/operations.md sizes Redis's maxclients from it). At least 6, one per pool.
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 16)
if REDIS_MAX_CONNECTIONS < 6:
    raise ImproperlyConfigured("REDIS_MAX_CONNECTIONS must be at least 6 (one connection per pool).")
# Seconds a caller waits for a free connection when its pool has all of them in use; then it is
# handled as Redis being unreachable (core/outages.py).
REDIS_POOL_TIMEOUT = float(env("REDIS_POOL_TIMEOUT", "2"))


def redis_namespace(database_name: str, redis_url: str) -> str:
    """The prefix of every Redis key and pub/sub channel of this installation.

    Redis pub/sub ignores the database number, so two installations on one Redis server (a
    staging and a production, say) would otherwise hear each other's events. By default the
    namespace is the database name and the Redis database number: installations that differ in
    either never meet, and every process of one installation agrees without a setting.
    """
    parts = urlparse(redis_url)
    number = parse_qs(parts.query).get("db", [""])[0] if parts.scheme == "unix" else parts.path.strip("/")
    return f"crm.{database_name}.{number or 0}"


REDIS_NAMESPACE = env("REDIS_NAMESPACE") or redis_namespace(DATABASES["default"]["NAME"], REDIS_URL)
# The layer is picked by measurement (bench/ws_bench.py, docs/websocket.md): `core` is
# channels_redis' list-based RedisChannelLayer, `pubsub` its RedisPubSubChannelLayer on our capped
# pools (core/channel_layer.py). `core` blocks a connection per receiving socket: benchmarks only.
CHANNELS_BACKEND = env("CHANNELS_BACKEND", "pubsub")
CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": {
            "core": "channels_redis.core.RedisChannelLayer",
            "pubsub": "core.channel_layer.PubSubChannelLayer",
        }[CHANNELS_BACKEND],
        "CONFIG": {"hosts": [REDIS_URL], "prefix": REDIS_NAMESPACE},
    }
}
if CHANNELS_BACKEND == "core":
    CHANNEL_LAYERS["default"]["CONFIG"].update(capacity=env_int("CHANNELS_CAPACITY", 1000), expiry=60)
CACHES = {
    "default": {
        "BACKEND": "core.cache.RedisCache",  # pools shared per process (core/cache.py)
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_NAMESPACE,
        "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
    }
}

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

# --- REST API --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.JWTAuthentication",  # simplejwt's, user read by a prebuilt statement
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "core.renderers.JSONRenderer",  # DRF's output, encoded by orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",  # DRF's, with Django's body-size cap applied
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",  # pages, error responses, formats as sent
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "user": f"{env_int('RATE_LIMIT_MAX_REQUESTS', 600)}/min",
        "anon": f"{env_int('RATE_LIMIT_ANON_REQUESTS', 120)}/min",
        "login_account": env("LOGIN_RATE_PER_ACCOUNT", "5/min"),
        "login_address": env("LOGIN_RATE_PER_ADDRESS", "20/min"),
        "password_reset": env("PASSWORD_RESET_RATE", "5/hour"),
    },
    # Throttles identify anonymous clients by REMOTE_ADDR, which core.edge already took from a trusted
    # proxy's X-Forwarded-For where there is one. Left at None, DRF would believe anyone's header.
    "NUM_PROXIES": 0,
    # DRF's user/anon rates, counted with atomic Redis counters (core/throttling.py)
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.UserRateThrottle",
        "core.throttling.AnonRateThrottle",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # `?format=csv` selects an export format in our views, not a DRF renderer.
    "URL_FORMAT_OVERRIDE": None,
}

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

SPECTACULAR_SETTINGS = {
    "TITLE": "Consultancy CRM API",
    "DESCRIPTION": (
        "Leads, appointments, documents and real-time messaging for an education consultancy.\n\n"
        'Every error answers `{"error": {"code", "message", "details"}}`; lists answer '
        '`{"results": [...], "next": url|null}`. The WebSocket protocol at `/ws/` is described by the '
        "[AsyncAPI document](/api/ws-schema); [ReDoc](/api-redoc) shows this same schema; client guide: "
        "docs/quickstart-clients.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.schema.postprocess"],
    # Swagger UI and ReDoc from the pinned drf-spectacular-sidecar package: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ConversationTypeEnum": "messaging.models.ConversationType",
        "MessageTypeEnum": "messaging.models.MessageType",
        "SendableMessageTypeEnum": ["text", "image", "video", "file"],
        "RoleEnum": "accounts.models.Role",
        "LeadStatusEnum": "leads.models.LeadStatus",
        "LeadSourceEnum": "leads.models.LeadSource",
        "AppointmentStatusEnum": "appointments.models.AppointmentStatus",
        "TriageStatusEnum": "messaging.models.TriageStatus",
        "AppointmentOutcomeEnum": ["completed", "no_show"],
        "DocumentStatusEnum": "documents.models.DocumentStatus",
        "ReviewDecisionEnum": ["approved", "rejected"],
        "DocumentKindEnum": "documents.models.DocumentKind",
        "DeviceKindEnum": "devices.models.DeviceKind",
        "ApplicationStatusEnum": "applications.transitions.ApplicationStatus",
        "StudyLevelEnum": "study.vocabulary.StudyLevel",
        "EducationLevelEnum": "study.vocabulary.EducationLevel",
        "ChecklistItemStateEnum": ["missing", "pending", "approved", "rejected"],
    },
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

DEBUG_SQL = env_bool("DEBUG_SQL", False)
DEBUG_SOCKET = env_bool("DEBUG_SOCKET", False)
LOG_LEVEL = env("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env("LOG_FORMAT", "json")  # json | text

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_tokens": {"()": "core.logging.RedactTokensFilter"},
        "no_outage_tracebacks": {"()": "core.outages.NoOutageTracebacks"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT if LOG_FORMAT in {"json", "text"} else "json",
            "filters": ["no_outage_tracebacks", "redact_tokens"],  # the traceback is gone before redaction formats it
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers (a console one in debug, mail_admins) replaced: every record, error
        # reports included, leaves through the one redacting handler.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "DEBUG" if DEBUG_SQL else "WARNING"},
        "crm.socket": {"level": "DEBUG" if DEBUG_SOCKET else LOG_LEVEL},
        # one line per request and per socket (core.edge); ~50 us a request with the JSON formatter
        "crm.access": {"level": LOG_LEVEL if env_bool("ACCESS_LOG", True) else "WARNING"},
        "daphne": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}

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
SOCKET_GAP_WAIT_MS = env_int("SOCKET_GAP_WAIT_MS", 200)

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


# --- Background jobs (Celery, crm_project/celery.py; docs/jobs.md) ---------------------------------
# The broker: the Redis of REDIS_URL unless CELERY_BROKER_URL names another. Every broker key and
# channel starts with REDIS_NAMESPACE, so installations sharing one Redis never take each other's jobs.
def celery_broker_url(redis_url: str) -> str:
    """Kombu's name for Redis on a unix socket (the embedded Redis) is redis+socket://."""
    parts = urlparse(redis_url)
    if parts.scheme != "unix":
        return redis_url
    number = parse_qs(parts.query).get("db", ["0"])[0]
    return f"redis+socket://{parts.path}?virtual_host={number}"


CELERY_BROKER_URL = env("CELERY_BROKER_URL") or celery_broker_url(REDIS_URL)
# Seconds before a job taken by a worker that died without acknowledging it (SIGKILL, a lost machine)
# goes back to the queue. Must exceed the longest job (CELERY_TASK_TIME_LIMIT) and the longest delay a
# job is sent with (PUSH_GRACE_SECONDS): a job still held when it runs out is handed out a second time.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 300)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "global_keyprefix": f"{REDIS_NAMESPACE}:jobs:",
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # every worker looks for such jobs at start and every 10 s (kombu's default is every 100 s)
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
    "socket_timeout": REDIS_TIMEOUT,
    "socket_connect_timeout": REDIS_TIMEOUT,
    # as core.redis_pools names its connections (`CLIENT LIST`); a worker's children carry its pid
    "client_name": f"{REDIS_NAMESPACE}:{socket.gethostname()}:{os.getpid()}:jobs".replace(" ", "_"),
}
# Broker connections a process keeps for queueing jobs (a web worker's requests and push scheduler),
# besides its REDIS_MAX_CONNECTIONS (two Redis connections each: kombu checks a new one with the first):
# queueing is one short command, and a burst waits for one of these.
CELERY_BROKER_POOL_LIMIT = env_int("CELERY_BROKER_POOL_LIMIT", 2)
# Remote control (`celery inspect`) and monitoring events stay inside the installation too.
CELERY_CONTROL_EXCHANGE = f"{REDIS_NAMESPACE}.celery"
CELERY_EVENT_EXCHANGE = f"{REDIS_NAMESPACE}.celeryev"
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Nothing reads a job's return value: no result backend.
CELERY_TASK_IGNORE_RESULT = True
# A job is acknowledged when it ends, not when it starts, and a job whose worker died goes back to
# the queue: a worker killed mid-job loses nothing (the job runs again; jobs are idempotent, core.jobs).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One job at a time per worker process, so one that dies holds back no other.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Seconds a job may run: SoftTimeLimitExceeded at the soft limit, the process killed at the hard one.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 90)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # our LOGGING (JSON, redaction) stays in charge
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "crm_project.celery:Scheduler"
# Beat's record of when each schedule last ran (a file: the schedules themselves are code).
CELERY_BEAT_SCHEDULE_FILENAME = env("CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / "var" / "celerybeat-schedule"))

# --- Reaching people who are offline: push and email (docs/notifications.md) -------------------------
# Seconds a new message waits for its recipient's socket before it is pushed (one push per burst).
PUSH_GRACE_SECONDS = env_int("PUSH_GRACE_SECONDS", 5)
# Minutes a message stays unread, its recipient without a socket, before the missed-message email.
MISSED_MESSAGE_EMAIL_MINUTES = env_int("MISSED_MESSAGE_EMAIL_MINUTES", 15)
# Web Push is posted only to endpoints under these URL prefixes (comma separated): the push services of
# Chrome/Edge (FCM), Firefox, Safari and Windows. A host name must resolve to public addresses only when
# the push is sent; an IP address written here is allowed as written.
WEBPUSH_ALLOWED_ENDPOINTS = env_list(
    "WEBPUSH_ALLOWED_ENDPOINTS",
    "https://fcm.googleapis.com/,https://updates.push.services.mozilla.com/,https://web.push.apple.com/,"
    "https://wns2-par02p.notify.windows.com/,https://wns2-db5p.notify.windows.com/",
)
# VAPID keys of Web Push (generate with `manage.py vapid_keys`): the private key as PEM or base64url
# DER, the public key (base64url, uncompressed point) served to browsers at GET devices/webpush-key.
WEBPUSH_VAPID_PRIVATE_KEY = env("WEBPUSH_VAPID_PRIVATE_KEY")
WEBPUSH_VAPID_PUBLIC_KEY = env("WEBPUSH_VAPID_PUBLIC_KEY")
# The contact push services may write to about our pushes (VAPID "sub").
WEBPUSH_VAPID_SUBJECT = env("WEBPUSH_VAPID_SUBJECT", "mailto:ops@localhost")
# Firebase Cloud Messaging (HTTP v1), for the Android and iOS apps: the service account's JSON file.
FCM_CREDENTIALS_FILE = env("FCM_CREDENTIALS_FILE")
# Apple Push Notification service, token authentication: the .p8 key file, its key id, the team id,
# the app's bundle id (the topic), and whether the apps are development builds (the sandbox).
APNS_AUTH_KEY_FILE = env("APNS_AUTH_KEY_FILE")
APNS_KEY_ID = env("APNS_KEY_ID")
APNS_TEAM_ID = env("APNS_TEAM_ID")
APNS_TOPIC = env("APNS_TOPIC")
APNS_USE_SANDBOX = env_bool("APNS_USE_SANDBOX", False)
# Where the providers are reached; empty = their documented addresses. For an egress proxy, or a
# stand-in provider in tests: FCM as a URL with {project} (https://.../v1/projects/{project}/messages:send),
# APNs as host:port.
FCM_ENDPOINT = env("FCM_ENDPOINT")
APNS_ENDPOINT = env("APNS_ENDPOINT")
# Pushes one job keeps in flight at once (threads): a push mostly waits for the provider's answer.
PUSH_SEND_THREADS = env_int("PUSH_SEND_THREADS", 8)
# Seconds a push provider may take to answer before the send is retried later.
PUSH_TIMEOUT_SECONDS = env_int("PUSH_TIMEOUT_SECONDS", 10)
# This server's public address, for links in emails that come back to it (one-click unsubscribe).
SITE_URL = env("SITE_URL", "http://localhost:8000")
# Signature of emails sent to people without an office (students before they have one, super admins).
PRODUCT_NAME = env("PRODUCT_NAME", "Consultancy CRM")
# Days the record of sent pushes and emails (what makes a retry never send twice) is kept.
DELIVERY_LEDGER_DAYS = env_int("DELIVERY_LEDGER_DAYS", 14)
# django-push-notifications' own settings, from the ones above (its device tables stay empty: devices.Device).
PUSH_NOTIFICATIONS_SETTINGS = {
    "FCM_MAX_RECIPIENTS": 500,
    "APNS_TOPIC": APNS_TOPIC,
    "APNS_USE_SANDBOX": APNS_USE_SANDBOX,
    "UNIQUE_REG_ID": False,
    "USER_MODEL": "accounts.User",
}
