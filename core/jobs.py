"""Background jobs (Celery, `crm_project/celery.py`): how a job is declared, sent and watched.

- `@job(...)` declares a task with the house defaults on top of the app's (acks late, back to the
  queue when its worker dies, time limits: settings `CELERY_*`): retried with exponential back-off
  and jitter on `Retryable` and on PostgreSQL or Redis being unreachable, at most `max_retries` times.
  A job must be idempotent: it can run twice (a retry, a worker killed after the work but before the
  acknowledgement, beat sending a row again). The ledger in `notifications.delivery` is how a send
  stays single.
- `enqueue(task, ...)` sends a job once the current transaction commits (nothing is sent for a write
  that rolled back) and never raises: while Redis is down the send is dropped and logged once a
  minute (`core.outages`), so a committed write never turns into an error.
- `job_stats()`: queue length, jobs held by workers, and counts of failures, retries and successes
  per task, kept in Redis by every worker (signals below), for `/metrics`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from celery import Task, shared_task
from celery.signals import task_failure, task_retry, task_success
from django.conf import settings
from django.db import transaction
from django.db import utils as db_utils

from core.outages import REDIS_ERRORS, redis_outage

logger = logging.getLogger("crm.jobs")

F = TypeVar("F", bound=Callable[..., Any])


class Retryable(Exception):
    """A job met a passing failure (a provider throttled or answered 5xx, a timeout): run it again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


RETRY_ON = (Retryable, db_utils.OperationalError, db_utils.InterfaceError, *REDIS_ERRORS)


def job(*, max_retries: int = 8, **options: Any) -> Callable[[F], Any]:
    """A Celery task with the house defaults: retried on `RETRY_ON` with back-off (2 s, 4 s, ... at most
    5 minutes, jittered), the time limits of the settings unless given."""

    def decorate(function: F) -> Any:
        return shared_task(
            autoretry_for=RETRY_ON,
            retry_backoff=2,
            retry_backoff_max=300,
            retry_jitter=True,
            max_retries=max_retries,
            **options,
        )(function)

    return decorate


def enqueue(task: Task, *args: Any, countdown: float | None = None, **kwargs: Any) -> None:
    """Send `task(*args, **kwargs)` after the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: send_now(task, *args, countdown=countdown, **kwargs))


def send_now(task: Task, *args: Any, countdown: float | None = None, **kwargs: Any) -> bool:
    """Send a job now; False (logged) when the broker cannot be reached. No retries: the caller's
    request must not wait for Redis (its jobs are dropped while Redis is down, like live events)."""
    if redis_outage.skip():
        redis_outage.failed("jobs dropped", skipped=True)
        return False
    try:
        task.apply_async(args=args, kwargs=kwargs, countdown=countdown, retry=False)
    except REDIS_ERRORS as exc:
        redis_outage.failed("jobs dropped", exc)
        return False
    except Exception:
        logger.exception("job could not be sent", extra={"task": task.name})
        return False
    redis_outage.recovered()
    return True


# --- what /metrics shows --------------------------------------------------------------------------

_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=settings.REDIS_TIMEOUT, socket_connect_timeout=settings.REDIS_TIMEOUT
        )
    return _client


def _stats_key() -> str:
    return f"{settings.REDIS_NAMESPACE}:jobs:stats"


def _count(task: Task | None, outcome: str) -> None:
    name = getattr(task, "name", None) or "unknown"
    try:
        _redis().hincrby(_stats_key(), f"{name}|{outcome}", 1)
    except REDIS_ERRORS:
        pass  # the broker is the same Redis: the worker has bigger problems, logged by Celery


def _on_failure(sender: Task | None = None, **_: Any) -> None:
    _count(sender, "failed")


def _on_retry(sender: Task | None = None, **_: Any) -> None:
    _count(sender, "retried")


def _on_success(sender: Task | None = None, **_: Any) -> None:
    _count(sender, "succeeded")


task_failure.connect(_on_failure, weak=False)
task_retry.connect(_on_retry, weak=False)
task_success.connect(_on_success, weak=False)


# Redis transport: a queue is a list per priority step, named "<queue>" then "<queue>\x06\x16<step>".
_PRIORITY_SUFFIXES = ["", "\x06\x163", "\x06\x166", "\x06\x169"]


def job_stats() -> dict[str, Any]:
    """{"queued": jobs waiting in the default queue, "held": jobs taken by workers and not yet
    acknowledged (running, or waiting for their countdown), "outcomes": {(task, outcome): count}}."""
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    pipe = _redis().pipeline(transaction=False)
    for suffix in _PRIORITY_SUFFIXES:
        pipe.llen(f"{prefix}{queue}{suffix}")
    pipe.hlen(f"{prefix}unacked")
    pipe.hgetall(_stats_key())
    *lengths, held, counts = pipe.execute()
    outcomes = {}
    for field, value in counts.items():
        task, _, outcome = field.decode().rpartition("|")
        outcomes[(task, outcome)] = int(value)
    return {"queued": sum(lengths), "held": int(held), "outcomes": outcomes}
