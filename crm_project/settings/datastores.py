"""PostgreSQL and Redis (the cache, the channel layer, the socket state), part of `base.py`."""

from typing import Any
from urllib.parse import parse_qs, urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from crm_project.embedded import database_url_from_parts
from crm_project.settings.environment import env, env_int

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
