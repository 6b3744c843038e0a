"""Background jobs (Celery, crm_project/celery.py; docs/jobs.md), part of `base.py`."""

import os
import socket
from urllib.parse import parse_qs, urlparse

from crm_project.settings.datastores import REDIS_NAMESPACE, REDIS_TIMEOUT, REDIS_URL
from crm_project.settings.environment import BASE_DIR, env, env_int


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
