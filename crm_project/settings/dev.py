"""Development: debug on; private PostgreSQL/Redis when DATABASE_URL/REDIS_URL are unset."""

from crm_project.embedded import ensure_services

ensure_services()

from .base import *  # noqa: E402, F403 - every base setting, read once ensure_services() set the URLs
from .base import env_bool  # noqa: E402

DEBUG = env_bool("DEBUG", True)
