"""Logging: one JSON (or text) handler on stderr that redacts tokens, part of `base.py`."""

from crm_project.settings.environment import env, env_bool

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
